/**
 * Vector maths for recall: unit vectors, 8-bit quantization (a vector is
 * stored as 1 byte a dimension and one scale), dot products and rank fusion.
 */

/** The vector scaled to length 1 (a zero vector stays zero). */
export function normalize(v: ArrayLike<number>): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const out = new Float32Array(v.length);
  const inv = sum > 0 ? 1 / Math.sqrt(sum) : 0;
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * inv;
  return out;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** A unit vector as signed bytes: component = byte * scale, with the largest component at ±127. */
export interface Quantized {
  bytes: Int8Array;
  scale: number;
}

export function quantize(unit: Float32Array): Quantized {
  let max = 0;
  for (let i = 0; i < unit.length; i++) max = Math.max(max, Math.abs(unit[i]!));
  const scale = max > 0 ? max / 127 : 1;
  const bytes = new Int8Array(unit.length);
  for (let i = 0; i < unit.length; i++) bytes[i] = Math.round(unit[i]! / scale);
  return { bytes, scale };
}

export function dequantize(q: Quantized): Float32Array {
  const out = new Float32Array(q.bytes.length);
  for (let i = 0; i < out.length; i++) out[i] = q.bytes[i]! * q.scale;
  return out;
}

/**
 * Reciprocal rank fusion: each list votes 1 / (k + rank) (rank from 1) for its items; k = 60 is the
 * value of the paper that introduced it (Cormack et al., 2009), which damps the top ranks' weight.
 */
export function fuseRanks<K>(lists: readonly (readonly K[])[], k = 60, weights?: readonly number[]): Map<K, number> {
  const scores = new Map<K, number>();
  lists.forEach((list, l) => {
    const w = weights?.[l] ?? 1;
    list.forEach((item, i) => scores.set(item, (scores.get(item) ?? 0) + w / (k + i + 1)));
  });
  return scores;
}

/** The `k` largest of the first `count` scores (index, score), best first; a bounded insertion keeps it cheap for small k. */
export function topK(scores: Float32Array | Float64Array, count: number, k: number): { index: number; score: number }[] {
  const idx: number[] = [];
  const val: number[] = [];
  if (k <= 0) return [];
  for (let i = 0; i < count; i++) {
    const s = scores[i]!;
    let j: number;
    if (idx.length < k) {
      j = idx.length;
      idx.push(i);
      val.push(s);
    } else if (s > val[k - 1]!) {
      j = k - 1;
      idx[j] = i;
      val[j] = s;
    } else continue;
    while (j > 0 && val[j - 1]! < val[j]!) {
      [val[j - 1], val[j]] = [val[j]!, val[j - 1]!];
      [idx[j - 1], idx[j]] = [idx[j]!, idx[j - 1]!];
      j--;
    }
  }
  return idx.map((index, i) => ({ index, score: val[i]! }));
}
