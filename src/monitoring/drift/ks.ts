/**
 * Two-sample Kolmogorov–Smirnov test, a port of `scipy.stats.ks_2samp(a, b)`
 * (alternative='two-sided', method='auto', SciPy 1.17).
 *
 * Which p-value path applies (SciPy's rule):
 *  - max(n1, n2) ≤ 10000 → 'exact': the lattice-path count of Hodges /
 *    Viehmann (`_compute_prob_outside_square` when n1 == n2, otherwise
 *    `_compute_outer_prob_inside_method`). Ported line by line.
 *  - otherwise → 'asymp': `kstwo.sf(d, round(en))`, en = n1·n2/(n1+n2), i.e. the
 *    one-sample two-sided Kolmogorov distribution of Simard & L'Ecuyer as
 *    SciPy's `_ksstats._kolmogn` selects it (Ruben–Gambino ends, Durbin matrix
 *    (MTW), Pomeranz, Pelz–Good, 2·smirnov), same branch thresholds.
 *    `smirnov(n, x)` is evaluated as the Birnbaum–Tingey sum in log space in
 *    doubles (SciPy/xsf uses double-double), good to ~1e-10 relative.
 */

import { sortedCopy } from './sort.js';

export type KsMethod = 'exact' | 'asymp';

export interface KsResult {
  statistic: number;
  pValue: number;
  method: KsMethod;
}

/** SciPy's MAX_AUTO_N: 'auto' is exact when both samples are at most this large. */
export const KS_MAX_EXACT_N = 10000;

/** The KS statistic sup |F1 − F2| over the pooled sample; inputs must be sorted, NaN-free. */
export function ksStatistic(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let maxS = -Infinity;
  let minS = Infinity;
  while (i < n1 || j < n2) {
    const v = Math.min(i < n1 ? a[i]! : Infinity, j < n2 ? b[j]! : Infinity);
    while (i < n1 && a[i]! <= v) i++;
    while (j < n2 && b[j]! <= v) j++;
    // Same arithmetic as SciPy: searchsorted(..., 'right') / n per sample, then the difference.
    const diff = i / n1 - j / n2;
    if (diff > maxS) maxS = diff;
    if (diff < minS) minS = diff;
  }
  const minusMin = Math.min(Math.max(-minS, 0), 1);
  return minusMin > maxS ? minusMin : maxS;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** numpy.round: round half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** P(D_{n,n} ≥ h/n): SciPy's `_compute_prob_outside_square`. */
function probOutsideSquare(n: number, h: number): number {
  let p = 0;
  let k = Math.floor(n / h);
  while (k >= 0) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    p = p1 * (1 - p);
    k--;
  }
  return 2 * p;
}

/** Proportion of lattice paths leaving the band |x/m − y/n| < h/lcm: SciPy's `_compute_outer_prob_inside_method`. */
function outerProbInside(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0);
  const n = Math.min(m0, n0);
  const mg = Math.floor(m / g);
  const ng = Math.floor(n / g);
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  for (let t = minj; t < maxj; t++) A[t] = 0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.max(Math.floor((ng * i - h) / mg) + 1, 0);
    minj = Math.min(minj, n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj]! * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return A[maxj - minj - 1]!;
}

/** The exact path; returns null when SciPy would fall back to 'asymp'. */
function exactPValue(n1: number, n2: number, d: number): { d: number; p: number } | null {
  const g = gcd(n1, n2);
  const lcm = (n1 / g) * n2;
  const h = roundHalfEven(d * lcm);
  const dq = h / lcm;
  if (h === 0) return { d: dq, p: 1 };
  const p = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h);
  if (!Number.isFinite(p) || p < 0 || p > 1) return null;
  return { d: dq, p };
}

// ---- kstwo.sf(d, n): SciPy's _ksstats._kolmogn(n, x, cdf=False) ----

const STIRLING = [
  -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4,
  -5.952380952380952381e-4, 7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2,
];

function logNFactorialDivNPowN(n: number): number {
  const rn = 1 / n;
  let poly = 0;
  const r2 = rn / n;
  for (const c of STIRLING) poly = poly * r2 + c;
  return Math.log(n) / 2 - n + Math.log(2 * Math.PI) / 2 + rn * poly;
}

const clip01 = (p: number) => Math.min(Math.max(p, 0), 1);

function ldexp(x: number, e: number): number {
  while (e > 1000) {
    x *= 2 ** 1000;
    e -= 1000;
  }
  while (e < -1000) {
    x *= 2 ** -1000;
    e += 1000;
  }
  return x * 2 ** e;
}

function matmul(A: Float64Array, B: Float64Array, m: number): Float64Array<ArrayBufferLike> {
  const C = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = A[i * m + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < m; j++) C[i * m + j]! += aik * B[k * m + j]!;
    }
  }
  return C;
}

const E128 = 2 ** 128;
const EM128 = 2 ** -128;

/** CDF Pr(D_n ≤ d) by Durbin's matrix algorithm as Marsaglia–Tsang–Wang compute it. */
function kolmognDurbin(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    v[j - 1] = 1 - h ** j;
    w[j - 1] = fac;
    fac /= j;
    v[j - 1]! *= fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;
  let H: Float64Array<ArrayBufferLike> = new Float64Array(m * m);
  for (let i = 1; i < m; i++) for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - (i - 1)]!;
  for (let r = 0; r < m; r++) H[r * m] = v[r]!;
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c]!;

  let Hpwr: Float64Array<ArrayBufferLike> = new Float64Array(m * m);
  for (let i = 0; i < m; i++) Hpwr[i * m + i] = 1;
  let nn = n;
  let expnt = 0;
  let Hexpnt = 0;
  const kk = (k - 1) * m + (k - 1);
  while (nn > 0) {
    if (nn % 2) {
      Hpwr = matmul(Hpwr, H, m);
      expnt += Hexpnt;
      // SciPy keeps Hpwr in long double; we rescale it instead so doubles never overflow.
      if (Math.abs(Hpwr[kk]!) > E128) {
        for (let t = 0; t < Hpwr.length; t++) Hpwr[t]! /= E128;
        expnt += 128;
      }
    }
    H = matmul(H, H, m);
    Hexpnt *= 2;
    if (Math.abs(H[kk]!) > E128) {
      for (let t = 0; t < H.length; t++) H[t]! /= E128;
      Hexpnt += 128;
    }
    nn = Math.floor(nn / 2);
  }
  let p = Hpwr[kk]!;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= E128;
      expnt -= 128;
    }
  }
  if (expnt !== 0) p = ldexp(p, expnt);
  return clip01(p);
}

function pomeranzJ1J2(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const ip1div2 = Math.floor((i + 1) / 2);
    const ip1mod2 = (i + 1) % 2;
    if (ip1mod2 === 0) {
      if (ip1div2 === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = ip1div2 - 1 - ll - roundf - 1;
        j2 = ip1div2 + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = ip1div2 - 1 - ll - 1;
      j2 = ip1div2 + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** CDF Pr(D_n ≤ x) by Pomeranz' recursion (SciPy's `_kolmogn_Pomeranz`). */
function kolmognPomeranz(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  const gpower = new Float64Array(npwrs);
  const twogpower = new Float64Array(npwrs);
  const onem2gpower = new Float64Array(npwrs);
  gpower[0] = 1;
  twogpower[0] = 1;
  onem2gpower[0] = 1;
  let expnt = 0;
  const gOverN = g / n;
  const twoGOverN = (2 * g) / n;
  const oneMinusTwoGOverN = (1 - 2 * g) / n;
  for (let m = 1; m < npwrs; m++) {
    gpower[m] = (gpower[m - 1]! * gOverN) / m;
    twogpower[m] = (twogpower[m - 1]! * twoGOverN) / m;
    onem2gpower[m] = (onem2gpower[m - 1]! * oneMinusTwoGOverN) / m;
  }
  let V0 = new Float64Array(npwrs);
  let V1 = new Float64Array(npwrs);
  V1[0] = 1;
  let V0s = 0;
  let V1s = 0;
  let [j1, j2] = pomeranzJ1J2(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [V0, V1] = [V1, V0];
    [V0s, V1s] = [V1s, V0s];
    V1.fill(0);
    [j1, j2] = pomeranzJ1J2(i, n, ll, ceilf, roundf);
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 ? twogpower : onem2gpower;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      // conv = np.convolve(V0[k1 - V0s : k1 - V0s + ln2], pwrs[:ln2]); V1[:len] = conv[j1 - k1 : j2 - k1 + 1]
      const start = k1 - V0s;
      const aLen = Math.max(Math.min(start + ln2, npwrs) - start, 0);
      const bLen = Math.min(ln2, npwrs);
      const convStart = j1 - k1;
      const convLen = j2 - j1 + 1;
      let maxV = 0;
      for (let o = 0; o < convLen; o++) {
        const k = convStart + o;
        let acc = 0;
        const iLo = Math.max(0, k - bLen + 1);
        const iHi = Math.min(aLen - 1, k);
        for (let q = iLo; q <= iHi; q++) acc += V0[start + q]! * pwrs[k - q]!;
        V1[o] = acc;
        if (acc > maxV) maxV = acc;
      }
      if (maxV > 0 && maxV < EM128) {
        for (let o = 0; o < npwrs; o++) V1[o]! *= E128;
        expnt -= 128;
      }
      V1s = V0s + j1 - k1;
    }
  }
  let ans = V1[n - V1s]!;
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > E128) {
      ans *= EM128;
      expnt += 128;
    }
    ans *= m;
  }
  if (expnt !== 0) ans = ldexp(ans, expnt);
  return clip01(ans);
}

/** Pelz–Good approximation of Pr(D_n ≤ x). */
function kolmognPelzGood(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const PI2 = Math.PI ** 2;
  const PI4 = Math.PI ** 4;
  const PI6 = Math.PI ** 6;
  const SQRT2PI = Math.sqrt(2 * Math.PI);
  const z = Math.sqrt(n) * x;
  const z2 = z ** 2;
  const z3 = z ** 3;
  const z4 = z ** 4;
  const z6 = z ** 6;
  const qlog = -PI2 / 8 / z2;
  if (qlog < -708) return 0;
  let q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const m2 = m ** 2;
    const m4 = m ** 4;
    const m6 = m ** 6;
    const qp = q ** (8 * k);
    const coeffs = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let t = 0; t < 4; t++) K[t] = K[t]! * qp + coeffs[t]!;
  }
  const div = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let t = 0; t < 4; t++) K[t] = (K[t]! * q * SQRT2PI) / div[t]!;
  q = Math.exp(-PI2 / 2 / z2);
  let k2extra = 0;
  let k3extra = 0;
  const sqrt3z = Math.sqrt(3) * z;
  for (let k = maxk; k > 0; k--) {
    const k2 = k * k;
    const qp = q ** k2;
    k2extra += k2 * qp;
    const kpi = Math.PI * k;
    k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qp;
  }
  K[2]! += (k2extra * PI2 * SQRT2PI) / (-36 * z3);
  K[3]! += (k3extra * PI2 * SQRT2PI) / (216 * z6);
  let sum = 0;
  for (let t = 0; t < 4; t++) sum += K[t]! / n ** (t / 2);
  return sum;
}

const MINLOG = -708.3964185322641;

/** Exact product a·b = hi + lo (Dekker's split; no FMA in JavaScript). */
function twoProduct(a: number, b: number): [number, number] {
  const p = a * b;
  const split = (v: number): [number, number] => {
    const c = 134217729 * v;
    const hi = c - (c - v);
    return [hi, v - hi];
  };
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}
const SMIRNOV_MAX_COMPUTE_N = 1000000;

/** One-sided Smirnov survival function P(D_n^+ ≥ x) (scipy.special.smirnov). */
export function smirnovSf(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  // n·x as an unevaluated sum hi + lo (Dekker), so floor(n·x) and the bases below are exact enough.
  const [nxHi, nxLo] = twoProduct(n, x);
  let nxfl = Math.floor(nxHi);
  if (nxHi === nxfl && nxLo < 0) nxfl -= 1;
  let alpha = nxHi - nxfl + nxLo;
  if (alpha >= 1) {
    nxfl += 1;
    alpha = 0;
  }
  if (nxfl === 0 || (nxfl === 1 && alpha === 0)) {
    const cdf = x * (1 + x) ** (n - 1);
    return clip01(1 - cdf);
  }
  if (-2 * n * x * x < MINLOG) return 0;
  if (nxfl >= n - 1) return clip01((1 - x) ** n);
  if (n > SMIRNOV_MAX_COMPUTE_N) {
    const logp = -((6 * n * x + 1) ** 2) / 18 / n;
    return clip01(logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp));
  }
  // Birnbaum–Tingey: sf = x Σ_{j=0}^{J} C(n,j) (1 − x − j/n)^(n−j) (x + j/n)^(j−1).
  let last = n - nxfl - (alpha === 0 ? 0 : 1);
  if (alpha === 0) last -= 1;
  // Terms are summed in log space; log C(n, j) is accumulated with Kahan summation because the
  // large logs cancel and naive accumulation loses ~1e-9 relative at n = 1e5.
  const logs = new Float64Array(last + 1);
  let logC = 0;
  let comp = 0;
  let maxLog = -Infinity;
  for (let j = 0; j <= last; j++) {
    const below = (n - j - nxHi - nxLo) / n; // 1 − x − j/n
    const above = (j + nxHi + nxLo) / n; // x + j/n
    const l = logC + (n - j) * Math.log(below) + (j - 1) * Math.log(above);
    logs[j] = l;
    if (l > maxLog) maxLog = l;
    const y = Math.log((n - j) / (j + 1)) - comp;
    const t = logC + y;
    comp = t - logC - y;
    logC = t;
  }
  let s = 0;
  for (let j = 0; j <= last; j++) {
    const e = logs[j]! - maxLog;
    if (e > -745) s += Math.exp(e);
  }
  return clip01(x * s * Math.exp(maxLog));
}

/** Survival function of the two-sided one-sample KS statistic D_n (scipy.stats.kstwo.sf(x, n)). */
export function kstwoSf(x: number, n: number): number {
  if (Number.isNaN(x) || !Number.isInteger(n) || n <= 0) return Number.NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    let prob: number;
    if (n <= 140) {
      prob = 1;
      for (let i = 1; i <= n; i++) prob *= i * (1 / n) * (2 * t - 1);
    } else {
      prob = Math.exp(logNFactorialDivNPowN(n) + n * Math.log(2 * t - 1));
    }
    return clip01(1 - prob);
  }
  if (t >= n - 1) return clip01(2 * (1 - x) ** n);
  if (x >= 0.5) return clip01(2 * smirnovSf(n, x));
  const nx2 = t * x;
  if (n <= 140) {
    if (nx2 <= 0.754693) return clip01(1 - kolmognDurbin(n, x));
    if (nx2 <= 4) return clip01(1 - kolmognPomeranz(n, x));
    return clip01(2 * smirnovSf(n, x));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return clip01(2 * smirnovSf(n, x));
  let cdf: number;
  if (nx2 >= 18) cdf = 1;
  else if (n <= 100000 && n * x ** 1.5 <= 1.4) cdf = kolmognDurbin(n, x);
  else cdf = kolmognPelzGood(n, x);
  return clip01(1 - cdf);
}

/**
 * scipy.stats.ks_2samp(a, b) with its defaults. Inputs must be NaN-free and
 * non-empty (callers drop missing values first); they are not modified.
 */
export function ks2samp(a: Float64Array, b: Float64Array): KsResult {
  return ks2sampSorted(sortedCopy(a), sortedCopy(b));
}

/** ks2samp on samples already sorted ascending (the report sorts each column once). */
export function ks2sampSorted(a: Float64Array, b: Float64Array): KsResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('ks2samp needs two non-empty samples');
  const d = ksStatistic(a, b);
  if (Math.max(n1, n2) <= KS_MAX_EXACT_N) {
    const exact = exactPValue(n1, n2, d);
    // SciPy returns the statistic re-quantised to h/lcm on the exact path.
    if (exact) return { statistic: exact.d, pValue: clip01(exact.p), method: 'exact' };
  }
  const big = Math.max(n1, n2);
  const small = Math.min(n1, n2);
  const en = (big * small) / (big + small);
  return { statistic: d, pValue: clip01(kstwoSf(d, roundHalfEven(en))), method: 'asymp' };
}
