/**
 * Profiles against independently computed values. The expected numbers for
 * test/fixtures/data/people.csv come from NumPy (see make_people.py there:
 * ddof=1 std, np.quantile's linear interpolation, np.histogram with 20 bins);
 * the rest are hand counts on tiny inputs.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_FIXTURES, openDataHarness, type DataHarness } from '../../test/support/data.js';
import { luhnValid } from './pii.js';
import { computeProfile } from './profile.js';
import type { ColumnProfile, DatasetProfile } from './types.js';

let h: DataHarness;
let profile: DatasetProfile;
const col = (name: string): ColumnProfile => profile.columns.find((c) => c.name === name)!;

beforeAll(async () => {
  h = await openDataHarness();
  await h.data.add('people', path.join(DATA_FIXTURES, 'people.csv'));
  profile = await h.data.profile('people@1');
});
afterAll(async () => h.dispose());

describe('profile of people.csv (NumPy reference values)', () => {
  it('counts rows, non-null values, nulls and distinct values', () => {
    expect(profile.rowCount).toBe(40);
    expect(col('age')).toMatchObject({ kind: 'numeric', count: 36, nulls: 4, distinct: 36, distinctApproximate: false });
    expect(col('income')).toMatchObject({ count: 40, nulls: 0, distinct: 40 });
    expect(col('city')).toMatchObject({ kind: 'text', count: 40, distinct: 5 });
  });

  it('computes min, max, mean, sample std and quantiles', () => {
    const age = col('age');
    expect(age.min).toBe(18);
    expect(age.max).toBe(67);
    expect(age.mean).toBeCloseTo(41.77777777777778, 12);
    expect(age.std).toBeCloseTo(15.025903559446194, 12);
    expect(age.quantiles!.p50).toBeCloseTo(41.5, 12);
    expect(age.quantiles!.p95).toBeCloseTo(65.25, 12);
    expect(age.quantiles!.p1).toBeCloseTo(18.7, 12);
    const income = col('income');
    expect(income.min).toBe(1000);
    expect(income.max).toBe(6511.5);
    expect(income.mean).toBeCloseTo(3705.775, 9);
    expect(income.std).toBeCloseTo(1695.3806185239544, 9);
    expect(income.quantiles!.p50).toBeCloseTo(3755.625, 9);
    expect(income.quantiles!.p95).toBeCloseTo(6260.5125, 9);
    expect(income.quantiles!.p1).toBeCloseTo(1000.2925, 9);
  });

  it('bins numeric columns into NumPy’s 20 equal-width bins', () => {
    const age = col('age').histogram!;
    expect(age.map((b) => b.count)).toEqual([2, 2, 3, 1, 2, 2, 2, 2, 1, 2, 2, 2, 0, 3, 1, 2, 1, 1, 2, 3]);
    expect(age[0].lower).toBe(18);
    expect(age[0].upper).toBeCloseTo(20.45, 12);
    expect(age[19].upper).toBe(67);
    const income = col('income').histogram!;
    expect(income.map((b) => b.count)).toEqual([4, 2, 2, 1, 2, 2, 2, 1, 1, 3, 3, 1, 2, 2, 2, 2, 1, 2, 2, 3]);
    expect(income[0].upper).toBeCloseTo(1275.575, 9);
  });

  it('lists top values with counts, most frequent first', () => {
    expect(col('city').topValues).toEqual([
      { value: 'Paris', count: 12 },
      { value: 'Berlin', count: 10 },
      { value: 'Lima', count: 8 },
      { value: 'Oslo', count: 6 },
      { value: 'Rome', count: 4 },
    ]);
    // i % 3 != 0 for i in 0..39: 26 true, 14 false.
    expect(col('active')).toMatchObject({ kind: 'boolean', min: false, max: true, topValues: [{ value: 'true', count: 26 }, { value: 'false', count: 14 }] });
    expect(col('income').topValues).toBeNull();
  });

  it('gives string lengths and date ranges', () => {
    expect(col('email').length).toEqual({ min: 18, mean: 18.75, max: 19 });
    expect(col('signup')).toMatchObject({ kind: 'temporal', dateRange: { min: '2024-01-01', max: '2024-12-22' } });
    expect(col('age').length).toBeNull();
  });

  it('flags e-mail, phone, Luhn-valid card and IP columns, and nothing else', () => {
    expect(Object.fromEntries(profile.columns.map((c) => [c.name, c.pii]))).toEqual({
      id: [],
      age: [],
      income: [],
      city: [],
      email: ['email'],
      card: ['payment_card'],
      // 16-digit numbers that fail the Luhn check are not card numbers.
      bogus_card: [],
      ip: ['ip_address'],
      phone: ['phone'],
      signup: [],
      active: [],
    });
  });
});

describe('profile edge cases', () => {
  it('leaves NaN and infinities out of numeric statistics', async () => {
    await h.data.add('nan', h.write('nan.csv', 'id,x\n1,1.5\n2,nan\n3,2.5\n4,inf\n5,\n'));
    const x = (await h.data.profile('nan')).columns[1];
    expect(x.type).toBe('DOUBLE');
    expect(x).toMatchObject({ count: 4, nulls: 1, min: 1.5, max: 2.5, mean: 2 });
  });

  it('puts a constant column in the middle bin of [v − 0.5, v + 0.5], as NumPy does', async () => {
    await h.data.add('const', h.write('const.csv', 'x\n5\n5\n5\n'));
    const x = (await h.data.profile('const')).columns[0];
    expect(x.std).toBe(0);
    expect(x.histogram!.map((b) => b.count)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(x.histogram![10].lower).toBeCloseTo(5, 12);
  });

  it('puts values on bin edges where NumPy does, floating-point rounding included', async () => {
    // numpy: np.histogram(range(21), bins=20) → [1]*19 + [2]
    await h.data.add('ints', h.write('ints.csv', 'x\n' + Array.from({ length: 21 }, (_, k) => k).join('\n') + '\n'));
    expect((await h.data.profile('ints')).columns[0].histogram!.map((b) => b.count)).toEqual([...new Array(19).fill(1), 2]);
    // numpy: np.histogram([0.0, 0.1, …, 2.0], bins=20); 0.3 < 3 × 0.1 puts 0.3 in bin 2, and so on.
    const tenths = Array.from({ length: 21 }, (_, k) => (k / 10).toFixed(1));
    await h.data.add('tenths', h.write('tenths.csv', 'x\n' + tenths.join('\n') + '\n'));
    expect((await h.data.profile('tenths')).columns[0].histogram!.map((b) => b.count)).toEqual([1, 1, 2, 0, 1, 2, 1, 0, 1, 1, 1, 2, 0, 2, 0, 1, 2, 0, 2, 1]);
  });

  it('switches to approximate distinct counts above the bound', async () => {
    const h2 = await openDataHarness({ deps: { exactDistinctBound: 3 } });
    try {
      await h2.data.add('t', h2.write('t.csv', 'x,id,k\n1,a,u\n2,b,u\n3,c,u\n4,d,v\n10,e,u\n'));
      const p = await h2.data.profile('t');
      expect(p.exactDistinctBound).toBe(3);
      expect(p.columns[0].distinctApproximate).toBe(true);
      expect(p.columns[0].distinct).toBeGreaterThan(0);
      // Quantiles come from every k-th row; with 5 rows that is all of them: numpy.quantile([1,2,3,4,10], 0.75) = 4.
      expect(p.columns[0].quantiles!.p50).toBe(3);
      expect(p.columns[0].quantiles!.p75).toBe(4);
      // A mostly-unique text column gets no top values; a categorical one does.
      expect(p.columns[1].topValues).toBeNull();
      expect(p.columns[2].topValues).toEqual([
        { value: 'u', count: 4 },
        { value: 'v', count: 1 },
      ]);
    } finally {
      await h2.dispose();
    }
  });

  it('handles all-null and empty columns', async () => {
    await h.data.add('nulls', h.write('nulls.csv', 'a,b\n1,\n2,\n'));
    const b = (await h.data.profile('nulls')).columns[1];
    expect(b).toMatchObject({ count: 0, nulls: 2, distinct: 0, min: null, max: null, topValues: null, pii: [] });
  });
});

describe('profiles of datasets at or above the exact bound', () => {
  // 150,000 rows: id = i (unique), x = i·7919 mod 1000 (each of 0…999 exactly 150 times, as 7919 and 1000 are
  // coprime), k = one of 7 letters in turn, u = 'u' + i (unique text). With the bound at 1,000 the profile samples
  // about PROFILE_SAMPLE_ROWS = 100,000 rows (2/3 of them; Binomial sd ≈ 180).
  // NumPy on the full column x: mean 499.5, std(ddof=1) 288.67595251198827, quantiles
  // np.quantile(x, [.01,.05,.25,.5,.75,.95,.99]) = [9.99, 49.95, 249.75, 499.5, 749.25, 949.05, 989.01].
  let big: DataHarness;
  let p: DatasetProfile;
  const column = (name: string) => p.columns.find((c) => c.name === name)!;
  const letters = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
  beforeAll(async () => {
    big = await openDataHarness({ deps: { exactDistinctBound: 1000 } });
    const lines = ['id,x,k,u'];
    for (let i = 0; i < 150_000; i++) lines.push(`${i},${(i * 7919) % 1000},${letters[i % 7]},u${i}`);
    await big.data.add('big', big.write('big.csv', lines.join('\n') + '\n'));
    p = await big.data.profile('big');
  });
  afterAll(async () => big?.dispose());

  it('keeps counts, min, max, mean and std exact over every row', () => {
    expect(p.rowCount).toBe(150_000);
    expect(column('x')).toMatchObject({ count: 150_000, nulls: 0, min: 0, max: 999 });
    expect(column('x').mean).toBeCloseTo(499.5, 9);
    expect(column('x').std).toBeCloseTo(288.67595251198827, 9);
    expect(column('u').length).toEqual({ min: 2, mean: expect.any(Number), max: 7 });
  });

  it('counts low-cardinality columns exactly and estimates the others closely', () => {
    expect(column('k')).toMatchObject({ distinct: 7, distinctApproximate: true });
    expect(column('x').distinct).toBe(1000);
    // Hash sampling keeps 1/64 of the distinct values: relative sd √(64/150000) ≈ 2%.
    for (const name of ['id', 'u']) {
      expect(column(name).distinct).toBeGreaterThan(150_000 * 0.95);
      expect(column(name).distinct).toBeLessThanOrEqual(150_000);
    }
  });

  it('computes quantiles, histograms and top values on a sample it reports', () => {
    expect(p.sampled).toBe(true);
    expect(p.sampleRows).toBeGreaterThan(99_000);
    expect(p.sampleRows).toBeLessThan(101_000);
    // Sample quantiles of a uniform 0…999 from 100,000 rows are within a few units of the full data's.
    const q = column('x').quantiles!;
    const full = { p1: 9.99, p5: 49.95, p25: 249.75, p50: 499.5, p75: 749.25, p95: 949.05, p99: 989.01 };
    for (const [key, value] of Object.entries(full)) expect(Math.abs(q[key as keyof typeof q] - value)).toBeLessThan(15);
    const counts = column('x').histogram!.map((b) => b.count);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(p.sampleRows);
    for (const c of counts) expect(Math.abs(c - p.sampleRows! / 20)).toBeLessThan(400);
    const top = column('k').topValues!;
    expect(top.map((t) => t.value).sort()).toEqual(letters);
    expect(top.reduce((a, t) => a + t.count, 0)).toBe(p.sampleRows);
    for (const t of top) expect(Math.abs(t.count - p.sampleRows! / 7)).toBeLessThan(700);
    expect(column('u').topValues).toBeNull();
  });

  it('gives the same profile every time for the same file', async () => {
    const version = await big.data.resolve('big');
    const again = await computeProfile(big.engine, await big.data.parquetPath(version), { exactDistinctBound: 1000 });
    expect(again.profile).toEqual(p);
  });
});

describe('Luhn', () => {
  it('accepts published test card numbers and rejects altered ones', () => {
    for (const n of ['4111111111111111', '5500005555555559', '378282246310005', '6011000990139424', '4222222222222']) expect(luhnValid(n)).toBe(true);
    for (const n of ['4111111111111112', '5500005555555550', '1234567812345678', '', '12a4']) expect(luhnValid(n)).toBe(false);
  });
});
