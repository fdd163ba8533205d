/**
 * Special functions the drift tests need: log-gamma, the regularized incomplete
 * gamma functions, the chi-square survival function and the normal CDF.
 *
 * JavaScript has none of these built in. They are written to double precision
 * (about 1e-14 relative in the ranges drift tests use) so p-values match SciPy's
 * cephes implementations to well inside the 1e-9 the tests assert.
 */

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** Stirling series coefficients B_2j / (2j (2j-1)), j = 8..1 (same as SciPy's _ksstats). */
const STIRLING = [
  -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4,
  -5.952380952380952381e-4, 7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2,
];

/** ln Γ(x) for x > 0: shift to x ≥ 15 by the recurrence, then the Stirling series (error < 1e-20 there). */
export function logGamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  let shift = 0;
  let z = x;
  // Product of the shifted-away factors, kept in range by taking logs in chunks.
  let prod = 1;
  while (z < 15) {
    prod *= z;
    z += 1;
    if (prod > 1e280) {
      shift += Math.log(prod);
      prod = 1;
    }
  }
  shift += Math.log(prod);
  const r = 1 / z;
  const r2 = r * r;
  let poly = 0;
  for (const c of STIRLING) poly = poly * r2 + c;
  return (z - 0.5) * Math.log(z) - z + LOG_SQRT_2PI + r * poly - shift;
}

const EPS = 1e-17;
const MAX_ITER = 100000;
const TINY = 1e-300;

/** exp(-x) x^a / Γ(a), the common prefactor of both incomplete gamma expansions. */
function gammaPrefactor(a: number, x: number): number {
  return Math.exp(a * Math.log(x) - x - logGamma(a));
}

/** Series for P(a, x), good for x < a + 1. */
function lowerSeries(a: number, x: number): number {
  let ap = a;
  let term = 1 / a;
  let sum = term;
  for (let n = 0; n < MAX_ITER; n++) {
    ap += 1;
    term *= x / ap;
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPS) break;
  }
  return sum * gammaPrefactor(a, x);
}

/** Continued fraction (modified Lentz) for Q(a, x), good for x ≥ a + 1. */
function upperContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITER; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return h * gammaPrefactor(a, x);
}

/** Regularized lower incomplete gamma P(a, x) = γ(a, x) / Γ(a). */
export function gammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  if (!Number.isFinite(x)) return 1;
  return x < a + 1 ? lowerSeries(a, x) : 1 - upperContinuedFraction(a, x);
}

/** Regularized upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a) = 1 − P(a, x). */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  if (!Number.isFinite(x)) return 0;
  return x < a + 1 ? 1 - lowerSeries(a, x) : upperContinuedFraction(a, x);
}

/** Survival function of the chi-square distribution with `dof` degrees of freedom (scipy.stats.chi2.sf). */
export function chi2Sf(x: number, dof: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 1;
  return gammaQ(dof / 2, x / 2);
}

/** erf(x) via P(1/2, x²). */
export function erf(x: number): number {
  const v = gammaP(0.5, x * x);
  return x < 0 ? -v : v;
}

/** erfc(x) via Q(1/2, x²), accurate in the far right tail. */
export function erfc(x: number): number {
  return x < 0 ? 2 - gammaQ(0.5, x * x) : gammaQ(0.5, x * x);
}

/**
 * Standard normal CDF, with the same branch structure as cephes `ndtr` (what
 * scipy.stats.norm.cdf calls), so the rounding of 1 − Φ matches SciPy's.
 */
export function normalCdf(a: number): number {
  const x = a * Math.SQRT1_2;
  const z = Math.abs(x);
  if (z < Math.SQRT1_2) return 0.5 + 0.5 * erf(x);
  const y = 0.5 * erfc(z);
  return x > 0 ? 1 - y : y;
}
