/**
 * Count, mean and central moment sums M2, M3, M4 of a numeric column, built a
 * batch at a time and merged exactly (up to floating-point rounding) with the
 * pairwise formulas of Chan, Golub & LeVeque and Pébay ("Formulas for robust,
 * one-pass parallel computation of covariances and arbitrary-order statistical
 * moments", 2008). Each batch is summed in two passes (mean first, then
 * deviations), which is more accurate than Welford's per-value update and
 * keeps the loop on the typed array. From these: population and sample
 * variance, skewness g1 and excess kurtosis g2 as scipy.stats.skew/kurtosis
 * define them by default (biased estimators).
 *
 * Undefined results are null, never NaN: mean and variance of no values,
 * sample variance of fewer than two, skewness and kurtosis when M2 is 0
 * (a constant column, whose variance is exactly 0).
 */
import { decodeNumber, encodeNumber, requireCount, requireObject, type EncodedNumber } from './encoding.js';

export interface MomentsJSON {
  n: number;
  /** Numbers, or "Infinity" etc. should M4 of huge values overflow. */
  mean: EncodedNumber;
  m2: EncodedNumber;
  m3: EncodedNumber;
  m4: EncodedNumber;
}

export class Moments {
  n = 0;
  mean = 0;
  /** Σ (x - mean)^2, ^3, ^4 over the values seen. */
  m2 = 0;
  m3 = 0;
  m4 = 0;

  /** Adds `values[from, to)`; every value must be finite (the profile filters). */
  addBatch(values: Float64Array, from = 0, to = values.length): void {
    const n = to - from;
    if (n <= 0) return;
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = from; i < to; i++) {
      const x = values[i];
      sum += x;
      if (x < min) min = x;
      if (x > max) max = x;
    }
    const batch = new Moments();
    batch.n = n;
    if (min === max) {
      // A constant batch: exact, rather than sum/n's rounding making M2 > 0.
      batch.mean = min;
    } else {
      let mean = sum / n;
      let dsum = 0;
      for (let i = from; i < to; i++) dsum += values[i] - mean;
      mean += dsum / n; // corrected two-pass mean
      let s2 = 0;
      let s3 = 0;
      let s4 = 0;
      for (let i = from; i < to; i++) {
        const d = values[i] - mean;
        const d2 = d * d;
        s2 += d2;
        s3 += d2 * d;
        s4 += d2 * d2;
      }
      batch.mean = mean;
      batch.m2 = s2;
      batch.m3 = s3;
      batch.m4 = s4;
    }
    this.merge(batch);
  }

  /** Folds `other` into this (Pébay's pairwise update). */
  merge(other: Moments): void {
    const na = this.n;
    const nb = other.n;
    if (nb === 0) return;
    if (na === 0) {
      this.n = nb;
      this.mean = other.mean;
      this.m2 = other.m2;
      this.m3 = other.m3;
      this.m4 = other.m4;
      return;
    }
    const n = na + nb;
    const delta = other.mean - this.mean;
    const d2 = delta * delta;
    const nanb = na * nb;
    const m2 = this.m2 + other.m2 + (d2 * nanb) / n;
    const m3 =
      this.m3 + other.m3 + (d2 * delta * nanb * (na - nb)) / (n * n) + (3 * delta * (na * other.m2 - nb * this.m2)) / n;
    const m4 =
      this.m4 +
      other.m4 +
      (d2 * d2 * nanb * (na * na - nanb + nb * nb)) / (n * n * n) +
      (6 * d2 * (na * na * other.m2 + nb * nb * this.m2)) / (n * n) +
      (4 * delta * (na * other.m3 - nb * this.m3)) / n;
    this.mean = delta === 0 ? this.mean : this.mean + (delta * nb) / n;
    this.n = n;
    this.m2 = m2;
    this.m3 = m3;
    this.m4 = m4;
  }

  clone(): Moments {
    return Moments.fromJSON(this.toJSON());
  }

  meanOrNull(): number | null {
    return this.n === 0 ? null : this.mean;
  }

  /** Population variance M2/n (numpy's default, ddof=0). */
  variance(): number | null {
    return this.n === 0 ? null : this.m2 / this.n;
  }

  /** Sample variance M2/(n-1) (pandas' default, ddof=1). */
  sampleVariance(): number | null {
    return this.n < 2 ? null : this.m2 / (this.n - 1);
  }

  /** Population standard deviation. */
  std(): number | null {
    const v = this.variance();
    return v === null ? null : Math.sqrt(v);
  }

  /** g1 = √n·M3 / M2^1.5 (scipy.stats.skew, bias=True). */
  skewness(): number | null {
    if (this.n === 0 || this.m2 === 0) return null;
    return (Math.sqrt(this.n) * this.m3) / Math.pow(this.m2, 1.5);
  }

  /** Excess kurtosis g2 = n·M4 / M2² − 3 (scipy.stats.kurtosis, fisher=True, bias=True). */
  kurtosis(): number | null {
    if (this.n === 0 || this.m2 === 0) return null;
    return (this.n * this.m4) / (this.m2 * this.m2) - 3;
  }

  toJSON(): MomentsJSON {
    return {
      n: this.n,
      mean: encodeNumber(this.mean),
      m2: encodeNumber(this.m2),
      m3: encodeNumber(this.m3),
      m4: encodeNumber(this.m4),
    };
  }

  static fromJSON(json: unknown, field = 'moments'): Moments {
    const o = requireObject(json, field);
    const m = new Moments();
    m.n = requireCount(o.n, `${field}.n`);
    m.mean = decodeNumber(o.mean, `${field}.mean`);
    m.m2 = decodeNumber(o.m2, `${field}.m2`);
    m.m3 = decodeNumber(o.m3, `${field}.m3`);
    m.m4 = decodeNumber(o.m4, `${field}.m4`);
    return m;
  }
}
