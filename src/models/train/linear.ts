/**
 * Linear estimators on a row-major design matrix (Float64Array, n × p):
 *
 * - logistic regression with scikit-learn's objective, C·Σ log loss + ½‖w‖²
 *   (intercept not penalised): binary by Newton's method with a backtracking
 *   line search, multinomial (softmax, one weight row per class) by L-BFGS;
 * - least squares / ridge in closed form on centred data:
 *   (XcᵀXc + αI) w = Xcᵀyc, b = ȳ − x̄ᵀw, with the minimum-norm solution
 *   (pseudo-inverse) when α = 0 and the columns are collinear (one-hot
 *   encodings with an intercept are).
 *
 * Small matrices (p × p) go to ml-matrix; passes over rows are plain loops on
 * typed arrays.
 */
import { CholeskyDecomposition, Matrix, SingularValueDecomposition, solve } from 'ml-matrix';

export interface LinearModel {
  /** Row-major k × p weights (k = 1 for regression and binary classification). */
  coef: Float64Array;
  intercept: Float64Array;
  iterations: number;
}

export interface LogisticOptions {
  C: number;
  maxIter: number;
  /** Stop when max |∂(mean loss)| < tol. */
  tol: number;
}

const log1pexp = (z: number) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));
const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** Binary logistic regression; `y` holds 0/1. Returns one weight row (for class 1). */
export function fitLogisticBinary(X: Float64Array, n: number, p: number, y: Float64Array, options: LogisticOptions): LinearModel {
  const lambda = 1 / options.C;
  const d = p + 1; // weights then intercept
  let beta = new Float64Array(d);
  const z = new Float64Array(n);
  const objective = (b: Float64Array) => {
    let loss = 0;
    for (let i = 0; i < n; i++) {
      let s = b[p];
      const row = i * p;
      for (let j = 0; j < p; j++) s += X[row + j] * b[j];
      z[i] = s;
      loss += log1pexp(s) - y[i] * s;
    }
    let reg = 0;
    for (let j = 0; j < p; j++) reg += b[j] * b[j];
    return loss + 0.5 * lambda * reg;
  };
  let loss = objective(beta);
  let iterations = 0;
  for (; iterations < options.maxIter; iterations++) {
    const grad = new Float64Array(d);
    const H = new Float64Array(d * d);
    for (let i = 0; i < n; i++) {
      const pi = sigmoid(z[i]);
      const r = pi - y[i];
      const w = pi * (1 - pi);
      const row = i * p;
      for (let a = 0; a < p; a++) {
        const xa = X[row + a];
        if (xa === 0) continue;
        grad[a] += r * xa;
        const wa = w * xa;
        for (let b = a; b < p; b++) H[a * d + b] += wa * X[row + b];
        H[a * d + p] += wa;
      }
      grad[p] += r;
      H[p * d + p] += w;
    }
    for (let j = 0; j < p; j++) {
      grad[j] += lambda * beta[j];
      H[j * d + j] += lambda;
    }
    if (maxAbs(grad) / n < options.tol) break;
    for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) H[a * d + b] = H[b * d + a];
    const step = solveSymmetric(H, d, grad);
    const slope = dot(grad, step);
    let t = 1;
    let next = beta;
    let nextLoss = loss;
    for (let k = 0; k < 50; k++) {
      next = beta.map((v, j) => v - t * step[j]);
      nextLoss = objective(next);
      if (nextLoss <= loss - 1e-4 * t * slope) break;
      t /= 2;
    }
    if (!(nextLoss < loss)) {
      objective(beta); // restore z for the current beta
      break;
    }
    beta = next;
    loss = nextLoss;
  }
  return { coef: beta.slice(0, p), intercept: Float64Array.of(beta[p]), iterations };
}

/** Multinomial (softmax) logistic regression; `y` holds class indices 0..k-1. */
export function fitLogisticMultinomial(
  X: Float64Array,
  n: number,
  p: number,
  y: Int32Array,
  k: number,
  options: LogisticOptions,
): LinearModel {
  const lambda = 1 / options.C;
  const d = k * (p + 1); // k weight rows of p, then k intercepts
  const z = new Float64Array(k);
  const evaluate = (theta: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const row = i * p;
      let max = -Infinity;
      for (let c = 0; c < k; c++) {
        let s = theta[k * p + c];
        const w = c * p;
        for (let j = 0; j < p; j++) s += X[row + j] * theta[w + j];
        z[c] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let c = 0; c < k; c++) sum += Math.exp(z[c] - max);
      const lse = max + Math.log(sum);
      loss += lse - z[y[i]];
      for (let c = 0; c < k; c++) {
        const r = Math.exp(z[c] - lse) - (c === y[i] ? 1 : 0);
        const w = c * p;
        for (let j = 0; j < p; j++) grad[w + j] += r * X[row + j];
        grad[k * p + c] += r;
      }
    }
    let reg = 0;
    for (let j = 0; j < k * p; j++) {
      reg += theta[j] * theta[j];
      grad[j] += lambda * theta[j];
    }
    return loss + 0.5 * lambda * reg;
  };
  const { theta, iterations } = lbfgs(evaluate, new Float64Array(d), { maxIter: options.maxIter, gradTol: options.tol * n });
  return { coef: theta.slice(0, k * p), intercept: theta.slice(k * p), iterations };
}

/** Least squares (alpha = 0) or ridge regression with an unpenalised intercept. */
export function fitLinearRegression(X: Float64Array, n: number, p: number, y: Float64Array, alpha: number): LinearModel {
  const xMean = new Float64Array(p);
  let yMean = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) xMean[j] += X[i * p + j];
    yMean += y[i];
  }
  for (let j = 0; j < p; j++) xMean[j] /= n;
  yMean /= n;
  const A = new Float64Array(p * p);
  const c = new Float64Array(p);
  const xc = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) xc[j] = X[i * p + j] - xMean[j];
    const yc = y[i] - yMean;
    for (let a = 0; a < p; a++) {
      const va = xc[a];
      if (va === 0) continue;
      c[a] += va * yc;
      for (let b = a; b < p; b++) A[a * p + b] += va * xc[b];
    }
  }
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < a; b++) A[a * p + b] = A[b * p + a];
    A[a * p + a] += alpha;
  }
  const w = alpha > 0 ? solveSymmetric(A, p, c) : pseudoSolve(A, p, c);
  let b = yMean;
  for (let j = 0; j < p; j++) b -= xMean[j] * w[j];
  return { coef: w, intercept: Float64Array.of(b), iterations: 1 };
}

/** x·coef_row + intercept for every row: n × k scores. */
export function linearScores(X: Float64Array, n: number, p: number, model: Pick<LinearModel, 'coef' | 'intercept'>): Float64Array {
  const k = model.intercept.length;
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let s = model.intercept[c];
      for (let j = 0; j < p; j++) s += X[i * p + j] * model.coef[c * p + j];
      out[i * k + c] = s;
    }
  }
  return out;
}

function toMatrix(A: Float64Array, d: number): Matrix {
  const m = new Matrix(d, d);
  for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) m.set(a, b, A[a * d + b]);
  return m;
}

/** Solves A x = g for a symmetric positive (semi-)definite A: Cholesky, else the pseudo-inverse. */
function solveSymmetric(A: Float64Array, d: number, g: Float64Array): Float64Array {
  const m = toMatrix(A, d);
  const chol = new CholeskyDecomposition(m);
  if (chol.isPositiveDefinite()) return Float64Array.from(chol.solve(Matrix.columnVector(Array.from(g))).getColumn(0));
  return Float64Array.from(solve(m, Matrix.columnVector(Array.from(g)), true).getColumn(0));
}

/** The minimum-norm solution of A x = g for symmetric PSD A (eigen-directions below 1e-12·max dropped). */
function pseudoSolve(A: Float64Array, d: number, g: Float64Array): Float64Array {
  const svd = new SingularValueDecomposition(toMatrix(A, d));
  const s = svd.diagonal;
  const U = svd.leftSingularVectors;
  const V = svd.rightSingularVectors;
  const cutoff = Math.max(...s) * 1e-12;
  const x = new Float64Array(d);
  for (let r = 0; r < s.length; r++) {
    if (!(s[r] > cutoff)) continue;
    let ug = 0;
    for (let a = 0; a < d; a++) ug += U.get(a, r) * g[a];
    const f = ug / s[r];
    for (let a = 0; a < d; a++) x[a] += V.get(a, r) * f;
  }
  return x;
}

/**
 * L-BFGS (m = 10) with a backtracking Armijo line search, for smooth convex
 * objectives. `evaluate` returns f(θ) and writes ∇f(θ) into its second argument.
 */
export function lbfgs(
  evaluate: (theta: Float64Array, grad: Float64Array) => number,
  start: Float64Array,
  options: { maxIter: number; gradTol: number; memory?: number },
): { theta: Float64Array; value: number; iterations: number } {
  const m = options.memory ?? 10;
  const d = start.length;
  let theta = start.slice();
  let grad = new Float64Array(d);
  let value = evaluate(theta, grad);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  let iterations = 0;
  for (; iterations < options.maxIter; iterations++) {
    if (maxAbs(grad) < options.gradTol) break;
    // Two-loop recursion: direction = −H·grad.
    const q = grad.slice();
    const alpha: number[] = [];
    for (let i = S.length - 1; i >= 0; i--) {
      alpha[i] = rho[i] * dot(S[i], q);
      for (let j = 0; j < d; j++) q[j] -= alpha[i] * Y[i][j];
    }
    const gamma = S.length ? dot(S[S.length - 1], Y[Y.length - 1]) / dot(Y[Y.length - 1], Y[Y.length - 1]) : 1 / Math.max(1, Math.sqrt(dot(grad, grad)));
    for (let j = 0; j < d; j++) q[j] *= gamma;
    for (let i = 0; i < S.length; i++) {
      const beta = rho[i] * dot(Y[i], q);
      for (let j = 0; j < d; j++) q[j] += S[i][j] * (alpha[i] - beta);
    }
    let slope = -dot(grad, q);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let j = 0; j < d; j++) q[j] = grad[j] / Math.max(1, Math.sqrt(dot(grad, grad)));
      slope = -dot(grad, q);
    }
    let t = 1;
    const nextGrad = new Float64Array(d);
    let next = theta;
    let nextValue = value;
    let accepted = false;
    for (let k = 0; k < 60; k++) {
      next = theta.map((v, j) => v - t * q[j]);
      nextValue = evaluate(next, nextGrad);
      if (nextValue <= value + 1e-4 * t * slope) {
        accepted = true;
        break;
      }
      t /= 2;
    }
    if (!accepted) break;
    // No real progress left at double precision (scipy's ftol test): stop rather than spin.
    const stalled = value - nextValue <= 1e-15 * Math.max(1, Math.abs(value), Math.abs(nextValue));
    const s = next.map((v, j) => v - theta[j]);
    const yv = nextGrad.map((v, j) => v - grad[j]);
    const sy = dot(s, yv);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(yv, yv))) {
      S.push(s);
      Y.push(yv);
      rho.push(1 / sy);
      if (S.length > m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    theta = next;
    grad = nextGrad;
    value = nextValue;
    if (stalled) {
      iterations++;
      break;
    }
  }
  return { theta, value, iterations };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (const v of a) if (Math.abs(v) > m) m = Math.abs(v);
  return m;
}
