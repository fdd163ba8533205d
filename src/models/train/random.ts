/**
 * Seeded randomness for training: the held-out split, bootstrap samples and
 * feature sampling all draw from here, so a seed reproduces a model exactly.
 */

/** mulberry32: a small, fast 32-bit generator; returns uniform numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 0..n-1 in a seeded random order (Fisher–Yates). */
export function shuffledIndices(n: number, random: () => number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}

/** Splits rows 0..n-1 into held-out (`round(n·testFraction)`, at least 1) and training rows, each in file order. */
export function splitRows(n: number, testFraction: number, seed: number): { train: Uint32Array; test: Uint32Array } {
  const order = shuffledIndices(n, seededRandom(seed));
  const testCount = Math.min(n - 1, Math.max(1, Math.round(n * testFraction)));
  const test = order.slice(0, testCount).sort();
  const train = order.slice(testCount).sort();
  return { train, test };
}
