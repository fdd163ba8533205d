/**
 * A compact, mergeable statistical profile of one column, so serving replicas
 * and batch jobs can summarize what they see and monitoring can merge the
 * summaries (any grouping, any order) instead of keeping raw rows.
 *
 * Numeric (Float64Array, with an optional null mask): counts of values, nulls,
 * NaN and ±Infinity (exact), min and max (exact), moments of the finite values
 * (exact up to rounding), a KLL quantile sketch (kll.ts) and a HyperLogLog
 * distinct count (hll.ts). Categorical (strings and booleans, null/undefined
 * as missing): counts of values and nulls (exact), category counts — exact up
 * to `frequentK` distinct values, then Misra–Gries frequent items
 * (frequent.ts) — and a HyperLogLog distinct count.
 *
 * Merging is associative and commutative for everything exact; the sketches'
 * results stay within their documented bounds whatever the merge order. JSON
 * is versioned (`format: 1`) and checked field by field when read back.
 */
import { invalidArgument } from '../../core/errors.js';
import { requireCount, requireObject } from './encoding.js';
import { FREQUENT_DEFAULT_K, FrequentItems, type FrequentItem, type FrequentItemsJSON } from './frequent.js';
import { HLL_DEFAULT_PRECISION, HyperLogLog, type HllJSON } from './hll.js';
import { KLL_DEFAULT_K, KllSketch, type KllJSON } from './kll.js';
import { Moments, type MomentsJSON } from './moments.js';

export const PROFILE_FORMAT = 1;

export interface ProfileOptions {
  /** KLL accuracy parameter (numeric); rank error ≈ 2.3 / k^0.97. Default 200. */
  k?: number;
  /** HyperLogLog precision p (2^p registers); standard error 1.04 / √(2^p). Default 12. */
  hllPrecision?: number;
  /** Categories counted exactly, and counters kept beyond that. Default 1000. */
  frequentK?: number;
  /** Seed of the KLL compaction coin, for reproducible sketches. Default 1. */
  seed?: number;
}

export interface NumericProfileJSON {
  format: typeof PROFILE_FORMAT;
  kind: 'numeric';
  count: number;
  nullCount: number;
  nanCount: number;
  infiniteCount: number;
  moments: MomentsJSON;
  quantiles: KllJSON;
  distinct: HllJSON;
}

export interface CategoricalProfileJSON {
  format: typeof PROFILE_FORMAT;
  kind: 'categorical';
  count: number;
  nullCount: number;
  frequent: FrequentItemsJSON;
  distinct: HllJSON;
}

export type ColumnProfileJSON = NumericProfileJSON | CategoricalProfileJSON;

export class NumericProfile {
  readonly kind = 'numeric' as const;
  /** Entries seen: values + nulls + NaN. */
  count = 0;
  nullCount = 0;
  nanCount = 0;
  /** ±Infinity: in min/max, quantiles and distinct count; not in the moments. */
  infiniteCount = 0;
  moments: Moments;
  quantiles: KllSketch;
  distinct: HyperLogLog;

  constructor(options: ProfileOptions = {}) {
    this.moments = new Moments();
    this.quantiles = new KllSketch(options.k ?? KLL_DEFAULT_K, options.seed ?? 1);
    this.distinct = new HyperLogLog(options.hllPrecision ?? HLL_DEFAULT_PRECISION);
  }

  /** Values that are neither null nor NaN (the ones the sketches summarize). */
  get valueCount(): number {
    return this.quantiles.count;
  }

  get min(): number | null {
    return this.quantiles.min;
  }

  get max(): number | null {
    return this.quantiles.max;
  }

  /**
   * Adds a batch. `nulls[i] !== 0` marks values[i] as null (its value is
   * ignored); NaN is counted apart from null.
   */
  update(values: Float64Array, nulls?: Uint8Array): this {
    if (nulls && nulls.length !== values.length) {
      throw invalidArgument(`null mask has ${nulls.length} entries for ${values.length} values`, {
        values: values.length,
        nulls: nulls.length,
      });
    }
    const clean = new Float64Array(values.length);
    let m = 0;
    let nullCount = 0;
    let nanCount = 0;
    let infinite = 0;
    for (let i = 0; i < values.length; i++) {
      if (nulls !== undefined && nulls[i] !== 0) {
        nullCount++;
        continue;
      }
      const x = values[i];
      if (x !== x) {
        nanCount++;
        continue;
      }
      if (x === Infinity || x === -Infinity) infinite++;
      clean[m++] = x;
    }
    this.count += values.length;
    this.nullCount += nullCount;
    this.nanCount += nanCount;
    this.infiniteCount += infinite;
    if (infinite === 0) {
      this.moments.addBatch(clean, 0, m);
    } else {
      const finite = new Float64Array(m - infinite);
      let j = 0;
      for (let i = 0; i < m; i++) if (Number.isFinite(clean[i])) finite[j++] = clean[i];
      this.moments.addBatch(finite);
    }
    this.quantiles.update(clean, 0, m);
    this.distinct.addFloat64(clean, 0, m);
    return this;
  }

  /** Folds `other` into this profile (same k and HLL precision). */
  merge(other: NumericProfile): this {
    requireSameSketches(this.quantiles.k, other.quantiles.k, this.distinct.p, other.distinct.p);
    this.quantiles.merge(other.quantiles);
    this.distinct.merge(other.distinct);
    this.moments.merge(other.moments);
    this.count += other.count;
    this.nullCount += other.nullCount;
    this.nanCount += other.nanCount;
    this.infiniteCount += other.infiniteCount;
    return this;
  }

  /** Estimated value at rank q ∈ [0, 1] (exact at 0 and 1); null when no values. */
  quantile(q: number): number | null {
    return this.quantiles.quantile(q);
  }

  /** Estimated number of distinct values (nulls and NaN not counted). */
  distinctCount(): number {
    return this.distinct.estimate();
  }

  /** Summary statistics; undefined ones are null, never NaN. */
  stats(): NumericStats {
    const m = this.moments;
    return {
      count: this.count,
      nullCount: this.nullCount,
      nanCount: this.nanCount,
      infiniteCount: this.infiniteCount,
      min: this.min,
      max: this.max,
      mean: m.meanOrNull(),
      variance: m.variance(),
      sampleVariance: m.sampleVariance(),
      std: m.std(),
      skewness: m.skewness(),
      kurtosis: m.kurtosis(),
      distinct: this.distinctCount(),
    };
  }

  clone(): NumericProfile {
    return NumericProfile.fromJSON(this.toJSON());
  }

  toJSON(): NumericProfileJSON {
    return {
      format: PROFILE_FORMAT,
      kind: 'numeric',
      count: this.count,
      nullCount: this.nullCount,
      nanCount: this.nanCount,
      infiniteCount: this.infiniteCount,
      moments: this.moments.toJSON(),
      quantiles: this.quantiles.toJSON(),
      distinct: this.distinct.toJSON(),
    };
  }

  static fromJSON(json: unknown): NumericProfile {
    const o = requireProfileObject(json, 'numeric');
    const p = new NumericProfile();
    p.count = requireCount(o.count, 'count');
    p.nullCount = requireCount(o.nullCount, 'nullCount');
    p.nanCount = requireCount(o.nanCount, 'nanCount');
    p.infiniteCount = requireCount(o.infiniteCount, 'infiniteCount');
    p.moments = Moments.fromJSON(o.moments, 'moments');
    p.quantiles = KllSketch.fromJSON(o.quantiles, 'quantiles');
    p.distinct = HyperLogLog.fromJSON(o.distinct, 'distinct');
    if (p.count !== p.nullCount + p.nanCount + p.quantiles.count) {
      throw invalidArgument('profile count must equal nullCount + nanCount + quantiles.n', { field: 'count' });
    }
    if (p.moments.n !== p.quantiles.count - p.infiniteCount) {
      throw invalidArgument('profile moments.n must equal quantiles.n - infiniteCount', { field: 'moments.n' });
    }
    return p;
  }
}

export interface NumericStats {
  count: number;
  nullCount: number;
  nanCount: number;
  infiniteCount: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Population variance (ddof 0); 0 for a constant column. */
  variance: number | null;
  /** Sample variance (ddof 1). */
  sampleVariance: number | null;
  std: number | null;
  skewness: number | null;
  /** Excess kurtosis (Fisher). */
  kurtosis: number | null;
  distinct: number;
}

/** Strings and booleans; booleans are counted as the categories "true" and "false". */
export type CategoricalValue = string | boolean | null | undefined;

export class CategoricalProfile {
  readonly kind = 'categorical' as const;
  /** Entries seen, nulls included. */
  count = 0;
  nullCount = 0;
  frequent: FrequentItems;
  distinct: HyperLogLog;

  constructor(options: ProfileOptions = {}) {
    this.frequent = new FrequentItems(options.frequentK ?? FREQUENT_DEFAULT_K);
    this.distinct = new HyperLogLog(options.hllPrecision ?? HLL_DEFAULT_PRECISION);
  }

  get valueCount(): number {
    return this.frequent.count;
  }

  /** Adds a batch; null and undefined are missing values. */
  update(values: readonly CategoricalValue[]): this {
    const batch = new Map<string, number>();
    let nullCount = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      let key: string;
      if (typeof v === 'string') key = v;
      else if (v === null || v === undefined) {
        nullCount++;
        continue;
      } else if (typeof v === 'boolean') key = v ? 'true' : 'false';
      else throw invalidArgument(`categorical value at index ${i} must be a string, boolean or null`, { index: i });
      batch.set(key, (batch.get(key) ?? 0) + 1);
    }
    // HyperLogLog ignores repeats, so each distinct value is hashed once per batch.
    for (const key of batch.keys()) this.distinct.addString(key);
    this.frequent.addCounts(batch);
    this.count += values.length;
    this.nullCount += nullCount;
    return this;
  }

  merge(other: CategoricalProfile): this {
    requireSameSketches(0, 0, this.distinct.p, other.distinct.p);
    this.distinct.merge(other.distinct);
    this.frequent.merge(other.frequent);
    this.count += other.count;
    this.nullCount += other.nullCount;
    return this;
  }

  /**
   * Distinct values: exact while the category counts are exact, else the
   * HyperLogLog estimate.
   */
  distinctCount(): number {
    return this.frequent.exact ? this.frequent.size : this.distinct.estimate();
  }

  /** Most frequent categories with count bounds (see frequent.ts). */
  topValues(limit?: number): FrequentItem[] {
    return this.frequent.top(limit);
  }

  clone(): CategoricalProfile {
    return CategoricalProfile.fromJSON(this.toJSON());
  }

  toJSON(): CategoricalProfileJSON {
    return {
      format: PROFILE_FORMAT,
      kind: 'categorical',
      count: this.count,
      nullCount: this.nullCount,
      frequent: this.frequent.toJSON(),
      distinct: this.distinct.toJSON(),
    };
  }

  static fromJSON(json: unknown): CategoricalProfile {
    const o = requireProfileObject(json, 'categorical');
    const p = new CategoricalProfile();
    p.count = requireCount(o.count, 'count');
    p.nullCount = requireCount(o.nullCount, 'nullCount');
    p.frequent = FrequentItems.fromJSON(o.frequent, 'frequent');
    p.distinct = HyperLogLog.fromJSON(o.distinct, 'distinct');
    if (p.count !== p.nullCount + p.frequent.count) {
      throw invalidArgument('profile count must equal nullCount + frequent.n', { field: 'count' });
    }
    return p;
  }
}

export type ColumnProfile = NumericProfile | CategoricalProfile;

/** Profiles one column: a Float64Array is numeric, an array is categorical. */
export function profileColumn(values: Float64Array, options?: ProfileOptions & { nulls?: Uint8Array }): NumericProfile;
export function profileColumn(values: readonly CategoricalValue[], options?: ProfileOptions): CategoricalProfile;
export function profileColumn(
  values: Float64Array | readonly CategoricalValue[],
  options: ProfileOptions & { nulls?: Uint8Array } = {},
): ColumnProfile {
  if (values instanceof Float64Array) return new NumericProfile(options).update(values, options.nulls);
  if (!Array.isArray(values)) throw invalidArgument('profileColumn takes a Float64Array or an array of strings');
  return new CategoricalProfile(options).update(values);
}

/** A new profile of both inputs' data; neither input changes. */
export function mergeProfiles<P extends ColumnProfile>(a: P, b: P): P;
export function mergeProfiles(a: ColumnProfile, b: ColumnProfile): ColumnProfile {
  return mergeInto(a.clone(), b);
}

/** Folds b into a (changed in place) after checking that the kinds match. */
function mergeInto<P extends ColumnProfile>(a: P, b: ColumnProfile): P {
  if (a.kind === 'numeric' && b.kind === 'numeric') a.merge(b);
  else if (a.kind === 'categorical' && b.kind === 'categorical') a.merge(b);
  else throw invalidArgument(`cannot merge a ${a.kind} profile with a ${b.kind} profile`, { kinds: [a.kind, b.kind] });
  return a;
}

/** Merges any number of profiles (at least one) left to right into a new profile. */
export function mergeAllProfiles<P extends ColumnProfile>(profiles: readonly P[]): P {
  if (profiles.length === 0) throw invalidArgument('mergeAllProfiles needs at least one profile');
  let merged = profiles[0].clone() as P;
  for (let i = 1; i < profiles.length; i++) merged = mergeInto(merged, profiles[i]);
  return merged;
}

export function profileToJSON(profile: ColumnProfile): ColumnProfileJSON {
  return profile.toJSON();
}

/** Reads a profile written by `profileToJSON` (or parsed from its JSON text). */
export function profileFromJSON(json: unknown): ColumnProfile {
  const o = requireObject(json, 'profile');
  if (o.kind === 'numeric') return NumericProfile.fromJSON(o);
  if (o.kind === 'categorical') return CategoricalProfile.fromJSON(o);
  throw invalidArgument('profile field kind must be "numeric" or "categorical"', { field: 'kind', value: o.kind });
}

/** Checked before a merge changes anything, so a refused merge leaves the profile whole. */
function requireSameSketches(k: number, otherK: number, p: number, otherP: number): void {
  if (k !== otherK) throw invalidArgument(`cannot merge profiles with KLL k ${k} and ${otherK}`, { k, otherK });
  if (p !== otherP) throw invalidArgument(`cannot merge profiles with HyperLogLog precision ${p} and ${otherP}`, { p, otherP });
}

function requireProfileObject(json: unknown, kind: string): Record<string, unknown> {
  const o = requireObject(json, 'profile');
  if (o.format !== PROFILE_FORMAT) {
    throw invalidArgument(`profile format ${String(o.format)} is not supported (expected ${PROFILE_FORMAT})`, {
      field: 'format',
      value: o.format,
    });
  }
  if (o.kind !== kind) throw invalidArgument(`profile field kind must be "${kind}"`, { field: 'kind', value: o.kind });
  return o;
}
