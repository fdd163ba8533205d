/**
 * Column profiles as monitoring uses them: profiles of parts merge, in any
 * grouping, to the profile of the whole — exact fields equal, moments to
 * 1e-9 relative, quantiles within the KLL rank error of exact (sorted)
 * quantiles, distinct counts within 3 HyperLogLog standard errors, category
 * counts within n/(k+1) — and survive JSON. Nulls, NaN, empty and constant
 * columns give counts and nulls, never NaN.
 */
import { describe, expect, it } from 'vitest';
import { FlywheelError } from '../../core/errors.js';
import {
  CategoricalProfile,
  mergeAllProfiles,
  mergeProfiles,
  NumericProfile,
  profileColumn,
  profileFromJSON,
  profileToJSON,
} from './column-profile.js';
import { hllStandardError } from './hll.js';
import { kllRankError } from './kll.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Normal(100, 15) values rounded to 2 decimals (so repeats exist), a few NaN, a null mask. */
function numericColumn(n: number, seed: number) {
  const r = rng(seed);
  const values = new Float64Array(n);
  const nulls = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    values[i] = Math.round((100 + 15 * z) * 100) / 100;
    if (i % 97 === 0) nulls[i] = 1;
    else if (i % 101 === 0) values[i] = NaN;
  }
  return { values, nulls };
}

/** Exact statistics of the non-null, non-NaN values, computed directly. */
function exactStats(values: Float64Array, nulls: Uint8Array) {
  const kept = values.filter((x, i) => nulls[i] === 0 && !Number.isNaN(x)).sort();
  const n = kept.length;
  let mean = 0;
  for (const x of kept) mean += x;
  mean /= n;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (const x of kept) {
    const d = x - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  const rankInterval = (v: number) => {
    let lt = 0;
    while (lt < n && kept[lt] < v) lt++;
    let le = lt;
    while (le < n && kept[le] === v) le++;
    return [lt / n, le / n];
  };
  return { kept, n, mean, m2, m3, m4, distinct: new Set(kept).size, rankInterval };
}

const relClose = (actual: number, expected: number) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-9 * Math.abs(expected));

function expectMatchesExact(profile: NumericProfile, values: Float64Array, nulls: Uint8Array) {
  const exact = exactStats(values, nulls);
  let nullCount = 0;
  for (const b of nulls) nullCount += b;
  expect(profile.count).toBe(values.length);
  expect(profile.nullCount).toBe(nullCount);
  expect(profile.nanCount).toBe(values.length - nullCount - exact.n);
  expect(profile.min).toBe(exact.kept[0]);
  expect(profile.max).toBe(exact.kept[exact.n - 1]);
  expect(profile.moments.n).toBe(exact.n);
  relClose(profile.moments.mean, exact.mean);
  relClose(profile.moments.m2, exact.m2);
  relClose(profile.moments.m3, exact.m3);
  relClose(profile.moments.m4, exact.m4);
  const eps = kllRankError(profile.quantiles.k);
  for (let i = 1; i < 100; i++) {
    const q = i / 100;
    const [lo, hi] = exact.rankInterval(profile.quantile(q)!);
    expect(Math.max(lo - q, q - hi, 0)).toBeLessThanOrEqual(eps);
  }
  expect(Math.abs(profile.distinctCount() - exact.distinct)).toBeLessThanOrEqual(
    3 * hllStandardError(profile.distinct.p) * exact.distinct,
  );
}

describe('numeric profiles', () => {
  const N = 300_000;
  const { values, nulls } = numericColumn(N, 42);
  const part = (p: number, parts: number) => {
    const from = Math.floor((p * N) / parts);
    const to = Math.floor(((p + 1) * N) / parts);
    return profileColumn(values.subarray(from, to), { nulls: nulls.subarray(from, to), seed: p + 1 });
  };

  it('profiles a column: exact counts and moments, quantiles and distinct count within bounds', () => {
    expectMatchesExact(profileColumn(values, { nulls }), values, nulls);
  });

  it('merges 100 partial profiles to the profile of the whole', () => {
    const parts = Array.from({ length: 100 }, (_, p) => part(p, 100));
    const merged = mergeAllProfiles(parts);
    expectMatchesExact(merged, values, nulls);
    const whole = profileColumn(values, { nulls });
    // HyperLogLog merging is exact: the registers are those of the whole.
    expect(merged.toJSON().distinct).toEqual(whole.toJSON().distinct);
  });

  it('merges associatively and commutatively', () => {
    const [a, b, c] = [part(0, 3), part(1, 3), part(2, 3)];
    const left = mergeProfiles(mergeProfiles(a, b), c);
    const right = mergeProfiles(a, mergeProfiles(b, c));
    const swapped = mergeProfiles(c, mergeProfiles(b, a));
    for (const merged of [left, right, swapped]) {
      expect(merged.count).toBe(left.count);
      expect([merged.nullCount, merged.nanCount, merged.min, merged.max]).toEqual([
        left.nullCount,
        left.nanCount,
        left.min,
        left.max,
      ]);
      expect(merged.toJSON().distinct).toEqual(left.toJSON().distinct);
      expectMatchesExact(merged, values, nulls);
    }
    // The inputs are left as they were.
    expect(a.count + b.count + c.count).toBe(N);
  });

  it('round-trips through JSON', () => {
    const profile = part(0, 10);
    const text = JSON.stringify(profileToJSON(profile));
    const copy = profileFromJSON(JSON.parse(text));
    expect(copy).toBeInstanceOf(NumericProfile);
    expect(copy.toJSON()).toEqual(profile.toJSON());
    expect((copy as NumericProfile).stats()).toEqual(profile.stats());
    expect(JSON.parse(text).format).toBe(1);
  });

  it('summarizes nulls, NaN and ±Infinity without NaN results', () => {
    const p = profileColumn(Float64Array.from([1, NaN, 3, Infinity, 0, -Infinity]), {
      nulls: Uint8Array.from([0, 0, 0, 0, 1, 0]),
    });
    const s = p.stats();
    expect([s.count, s.nullCount, s.nanCount, s.infiniteCount]).toEqual([6, 1, 1, 2]);
    expect([s.min, s.max]).toEqual([-Infinity, Infinity]);
    expect(s.mean).toBe(2); // moments over the finite values 1 and 3
    expect(s.variance).toBe(1);
    expect(NumericProfile.fromJSON(JSON.parse(JSON.stringify(p))).stats()).toEqual(s);
  });

  it('gives nulls for an empty or all-null column', () => {
    for (const p of [
      profileColumn(new Float64Array(0)),
      profileColumn(Float64Array.from([1, 2]), { nulls: Uint8Array.from([1, 1]) }),
      profileColumn(Float64Array.from([NaN])),
    ]) {
      const s = p.stats();
      expect([s.min, s.max, s.mean, s.variance, s.std, s.skewness, s.kurtosis, s.distinct]).toEqual([
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        0,
      ]);
      expect(p.quantile(0.5)).toBeNull();
      expect(mergeProfiles(p, p).stats()).toEqual({ ...s, count: 2 * s.count, nullCount: 2 * s.nullCount, nanCount: 2 * s.nanCount });
    }
  });

  it('gives variance 0 and no NaN for a constant column, merged or not', () => {
    const constant = new Float64Array(50_000).fill(0.3);
    const merged = mergeProfiles(profileColumn(constant.subarray(0, 123)), profileColumn(constant.subarray(123)));
    for (const p of [profileColumn(constant), merged]) {
      const s = p.stats();
      expect([s.min, s.max, s.mean, s.variance, s.std, s.skewness, s.kurtosis]).toEqual([0.3, 0.3, 0.3, 0, 0, null, null]);
      expect(Math.round(s.distinct)).toBe(1);
      expect([p.quantile(0.01), p.quantile(0.5), p.quantile(0.99)]).toEqual([0.3, 0.3, 0.3]);
    }
  });

  it('refuses a null mask of the wrong length and profiles with different sketch parameters', () => {
    expect(() => profileColumn(Float64Array.from([1, 2]), { nulls: new Uint8Array(3) })).toThrow(/null mask has 3 entries/);
    const a = profileColumn(Float64Array.from([1]), { k: 100 });
    const b = profileColumn(Float64Array.from([2]), { k: 200 });
    expect(() => mergeProfiles(a, b)).toThrow(FlywheelError);
    expect(a.count).toBe(1); // a refused merge changes nothing
    const c = profileColumn(Float64Array.from([2]), { k: 100, hllPrecision: 10 });
    expect(() => a.clone().merge(c)).toThrow(/precision 12 and 10/);
  });
});

describe('categorical profiles', () => {
  const colours = (n: number, seed: number) => {
    const r = rng(seed);
    const names = ['red', 'green', 'blue', 'cyan', 'magenta'];
    return Array.from({ length: n }, (_, i) => (i % 10 === 0 ? null : names[Math.floor(r() * r() * names.length)]));
  };

  it('counts categories and nulls exactly and merges exactly', () => {
    const values = colours(100_000, 7);
    const whole = profileColumn(values);
    const truth = new Map<string, number>();
    for (const v of values) if (v !== null) truth.set(v, (truth.get(v) ?? 0) + 1);
    expect(whole.count).toBe(100_000);
    expect(whole.nullCount).toBe(10_000);
    expect(whole.distinctCount()).toBe(truth.size);
    expect(new Map(whole.topValues().map((t) => [t.value, t.count]))).toEqual(truth);
    const parts = Array.from({ length: 100 }, (_, p) => profileColumn(values.slice(p * 1000, (p + 1) * 1000)));
    const merged = mergeAllProfiles(parts);
    expect(merged.toJSON()).toEqual(whole.toJSON());
    const [a, b, c] = parts;
    expect(mergeProfiles(mergeProfiles(a, b), c).toJSON()).toEqual(mergeProfiles(a, mergeProfiles(c, b)).toJSON());
  });

  it('counts booleans as "true" / "false" and undefined as null', () => {
    const p = profileColumn([true, false, true, null, undefined]);
    expect(p.topValues()).toEqual([
      { value: 'true', count: 2, upper: 2 },
      { value: 'false', count: 1, upper: 1 },
    ]);
    expect([p.count, p.nullCount, p.valueCount]).toEqual([5, 2, 3]);
  });

  it('beyond frequentK distinct values: counts within n/(k+1), distinct count within 3 SE', () => {
    // "hot-i" for i < 20 each 2000 times; 60,000 other values once.
    const values: string[] = [];
    for (let i = 0; i < 20; i++) for (let j = 0; j < 2000; j++) values.push(`hot-${i}`);
    for (let i = 0; i < 60_000; i++) values.push(`cold-${i}`);
    const parts = Array.from({ length: 100 }, (_, p) =>
      profileColumn(values.filter((_, i) => i % 100 === p), { frequentK: 200 }),
    );
    const merged = mergeAllProfiles(parts);
    const n = values.length;
    expect(merged.valueCount).toBe(n);
    expect(merged.frequent.maxError).toBeLessThanOrEqual(n / 201);
    for (let i = 0; i < 20; i++) {
      const { count, upper } = merged.frequent.estimate(`hot-${i}`);
      expect(count).toBeLessThanOrEqual(2000);
      expect(upper).toBeGreaterThanOrEqual(2000);
      expect(2000 - count).toBeLessThanOrEqual(n / 201);
    }
    expect(Math.abs(merged.distinctCount() - 60_020)).toBeLessThanOrEqual(3 * hllStandardError(12) * 60_020);
  });

  it('round-trips through JSON, and an empty column has no NaN', () => {
    const p = profileColumn(['a', 'b', 'a', null]);
    const copy = profileFromJSON(JSON.parse(JSON.stringify(p)));
    expect(copy).toBeInstanceOf(CategoricalProfile);
    expect(copy.toJSON()).toEqual(p.toJSON());
    const empty = profileColumn([] as string[]);
    expect([empty.count, empty.distinctCount(), empty.topValues().length]).toEqual([0, 0, 0]);
  });

  it('refuses values that are not strings, booleans or null', () => {
    expect(() => profileColumn(['a', 3 as unknown as string])).toThrow(/index 1/);
  });
});

describe('profileFromJSON', () => {
  const numeric = profileColumn(Float64Array.from([1, 2, 3])).toJSON();

  it('refuses other formats, unknown kinds and inconsistent counts, naming the field', () => {
    expect(() => profileFromJSON({ ...numeric, format: 2 })).toThrow(/format 2 is not supported/);
    expect(() => profileFromJSON({ ...numeric, kind: 'image' })).toThrow(/kind/);
    expect(() => profileFromJSON({ ...numeric, count: 4 })).toThrow(/count must equal/);
    expect(() => profileFromJSON({ ...numeric, nullCount: -1 })).toThrow(/nullCount/);
    expect(() => profileFromJSON({ ...numeric, moments: { ...numeric.moments, n: 2 } })).toThrow(/moments.n/);
    expect(() => profileFromJSON('{}')).toThrow(FlywheelError);
  });

  it('refuses to merge a numeric with a categorical profile', () => {
    const a = profileFromJSON(numeric);
    const b = profileColumn(['x']);
    expect(() => mergeProfiles(a, b)).toThrow(/numeric profile with a categorical/);
  });
});
