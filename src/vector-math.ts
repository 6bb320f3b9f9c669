/** The little vector arithmetic the bot needs; every embedding here is L2-normalized, so cosine is a dot product. */

/** Dot product; for unit vectors, their cosine similarity. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** The unit-length mean of some vectors (undefined for none): several chunks as one vector. */
export function unitMean(vectors: readonly ArrayLike<number>[]): Float32Array | undefined {
  if (!vectors.length) return undefined;
  const c = new Float32Array(vectors[0]!.length);
  for (const v of vectors) for (let i = 0; i < v.length; i++) c[i]! += v[i]!;
  const n = Math.sqrt(dot(c, c)) || 1;
  for (let i = 0; i < c.length; i++) c[i]! /= n;
  return c;
}
