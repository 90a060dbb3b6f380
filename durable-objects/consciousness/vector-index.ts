/**
 * The vectors of the current model in memory, for nearest-neighbour search:
 * one flat array of 8-bit components (a dimension a byte) with a scale per
 * vector, the namespace and entity of each. Filled from SQLite on first use
 * and kept current by the backlog as it stores vectors (embeddings.ts).
 *
 * Up to EXACT_UP_TO vectors, every vector of the namespace is compared with
 * the query. Beyond, the vectors' signs (one bit a dimension) pick the rows
 * ranked exactly, in two passes of Hamming distance (32-bit popcounts over
 * flat Uint32Arrays, no multiplication):
 *   1. the first COARSE_WORDS words (128 dimensions) of every vector, kept in
 *      an array of their own so that the pass reads 16 bytes a vector;
 *   2. all the sign words of the best COARSE_KEEP of those;
 * and the best RERANK of the second pass are ranked by their 8-bit dot
 * products. At 100,000 vectors of 512 dimensions this reads 1.6 MB, then a
 * few hundred KB, instead of 51 MB for an exact scan.
 */
import { type Quantized } from "../../lib/embed/vector";

/** Above this many vectors, passes over the vectors' signs pick the rows ranked exactly. */
export const EXACT_UP_TO = 4096;
/** Sign words (32 dimensions each) a vector of the first, coarse pass. */
const COARSE_WORDS = 4;
/** Rows the exact ranking sees: at least this many, and 4 per row asked for. */
const RERANK = 400;
const RERANK_PER_ROW = 4;
/** Rows the coarse pass hands to the full sign pass, as a multiple of those ranked exactly. */
const COARSE_KEEP = 8;

export interface Neighbour {
  /** The row's id (entity 2r, observation 2r + 1). */
  id: number;
  entity: number;
  score: number;
}

/** Bits set in a 32-bit word (SWAR popcount). */
function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

export class VectorIndex {
  private bytes = new Int8Array(0);
  private scales = new Float32Array(0);
  private ids = new Float64Array(0);
  private entities = new Float64Array(0);
  private nsOf = new Uint32Array(0);
  /** Sign bits of each vector, `words` 32-bit words a vector. */
  private signs = new Uint32Array(0);
  /** The first `coarse` sign words of each vector, contiguous for the first pass. */
  private prefix = new Uint32Array(0);
  private readonly words: number;
  private readonly coarse: number;
  private readonly slots = new Map<number, number>();
  private readonly nsIds = new Map<string, number>();
  /** The first pass's distances, reused from one query to the next. */
  private distance = new Uint8Array(0);
  size = 0;

  constructor(
    readonly model: string,
    readonly dim: number,
  ) {
    this.words = Math.ceil(dim / 32);
    this.coarse = Math.min(COARSE_WORDS, this.words);
  }

  /** Room for more vectors: doubles while small, then grows by a quarter (the arrays are copied). */
  private grow(): void {
    const now = this.ids.length;
    const cap = Math.max(1024, now < 65_536 ? now * 2 : Math.ceil(now * 1.25));
    const copy = <T extends Int8Array | Float32Array | Float64Array | Uint32Array>(
      old: T,
      make: (n: number) => T,
      per = 1,
    ): T => {
      const next = make(cap * per);
      next.set(old);
      return next;
    };
    this.bytes = copy(this.bytes, (n) => new Int8Array(n), this.dim);
    this.scales = copy(this.scales, (n) => new Float32Array(n));
    this.ids = copy(this.ids, (n) => new Float64Array(n));
    this.entities = copy(this.entities, (n) => new Float64Array(n));
    this.nsOf = copy(this.nsOf, (n) => new Uint32Array(n));
    this.signs = copy(this.signs, (n) => new Uint32Array(n), this.words);
    this.prefix = copy(this.prefix, (n) => new Uint32Array(n), this.coarse);
  }

  put(id: number, q: Quantized, ns: string, entity: number): void {
    if (q.bytes.length !== this.dim) return;
    let slot = this.slots.get(id);
    if (slot === undefined) {
      if (this.size === this.ids.length) this.grow();
      slot = this.size++;
      this.slots.set(id, slot);
    }
    let nsId = this.nsIds.get(ns);
    if (nsId === undefined) this.nsIds.set(ns, (nsId = this.nsIds.size + 1));
    this.bytes.set(q.bytes, slot * this.dim);
    this.scales[slot] = q.scale;
    this.ids[slot] = id;
    this.entities[slot] = entity;
    this.nsOf[slot] = nsId;
    const w = this.words;
    this.signs.fill(0, slot * w, (slot + 1) * w);
    for (let i = 0; i < this.dim; i++) if (q.bytes[i]! > 0) this.signs[slot * w + (i >>> 5)]! |= 1 << (i & 31);
    this.prefix.set(this.signs.subarray(slot * w, slot * w + this.coarse), slot * this.coarse);
  }

  /** Forgets a row's vector (its row is gone): the last slot moves into its place. */
  remove(id: number): void {
    const slot = this.slots.get(id);
    if (slot === undefined) return;
    const last = --this.size;
    this.slots.delete(id);
    if (slot !== last) {
      this.bytes.copyWithin(slot * this.dim, last * this.dim, (last + 1) * this.dim);
      this.scales[slot] = this.scales[last]!;
      this.ids[slot] = this.ids[last]!;
      this.entities[slot] = this.entities[last]!;
      this.nsOf[slot] = this.nsOf[last]!;
      this.signs.copyWithin(slot * this.words, last * this.words, (last + 1) * this.words);
      this.prefix.copyWithin(slot * this.coarse, last * this.coarse, (last + 1) * this.coarse);
      this.slots.set(this.ids[slot]!, slot);
    }
  }

  /** Bytes held by the index's arrays (the id → slot map aside). */
  get bytesHeld(): number {
    return (
      this.bytes.byteLength +
      this.signs.byteLength +
      this.prefix.byteLength +
      this.distance.byteLength +
      this.ids.length * (4 + 8 + 8 + 4)
    );
  }

  /**
   * The `k` rows of namespace `ns` nearest to the unit vector `query` (cosine), best first. The query is
   * scaled to 8 bits as well, so the inner loop multiplies small integers.
   */
  nearest(query: Float32Array, ns: string, k: number, exact = this.size <= EXACT_UP_TO): Neighbour[] {
    const nsId = this.nsIds.get(ns);
    if (nsId === undefined || query.length !== this.dim || k <= 0) return [];
    const slots = exact ? undefined : this.closestSigns(query, nsId, Math.max(RERANK, RERANK_PER_ROW * k));
    let max = 0;
    for (let i = 0; i < query.length; i++) max = Math.max(max, Math.abs(query[i]!));
    const qs = max > 0 ? max / 127 : 1;
    const q = new Int32Array(this.dim);
    for (let i = 0; i < this.dim; i++) q[i] = Math.round(query[i]! / qs);
    const dim = this.dim;
    const bytes = this.bytes;
    const nsOf = this.nsOf;
    // A bounded list of the best k, kept sorted (k is small: tens to hundreds).
    const bestSlot: number[] = [];
    const bestScore: number[] = [];
    const count = slots ? slots.length : this.size;
    for (let n = 0; n < count; n++) {
      const slot = slots ? slots[n]! : n;
      if (nsOf[slot] !== nsId) continue;
      const base = slot * dim;
      // Four sums side by side: independent additions the CPU can overlap.
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let i = 0;
      for (; i + 3 < dim; i += 4) {
        s0 += q[i]! * bytes[base + i]!;
        s1 += q[i + 1]! * bytes[base + i + 1]!;
        s2 += q[i + 2]! * bytes[base + i + 2]!;
        s3 += q[i + 3]! * bytes[base + i + 3]!;
      }
      for (; i < dim; i++) s0 += q[i]! * bytes[base + i]!;
      const s = s0 + s1 + s2 + s3;
      const score = s * this.scales[slot]! * qs;
      if (bestSlot.length === k && score <= bestScore[k - 1]!) continue;
      let j = bestSlot.length < k ? bestSlot.length : k - 1;
      while (j > 0 && bestScore[j - 1]! < score) {
        if (j < k) {
          bestScore[j] = bestScore[j - 1]!;
          bestSlot[j] = bestSlot[j - 1]!;
        }
        j--;
      }
      bestScore[j] = score;
      bestSlot[j] = slot;
    }
    return bestSlot.map((slot, i) => ({ id: this.ids[slot]!, entity: this.entities[slot]!, score: bestScore[i]! }));
  }

  /**
   * The first pass for 4 words, unrolled: the four words' bit counts are added per nibble, then per
   * byte (at most 32 a byte), and summed by one multiplication, instead of one popcount a word.
   */
  private coarsePass4(q: Uint32Array, nsId: number, distance: Uint8Array, histogram: Uint32Array, far: number): void {
    const prefix = this.prefix;
    const nsOf = this.nsOf;
    const [q0, q1, q2, q3] = [q[0]!, q[1]!, q[2]!, q[3]!];
    for (let slot = 0, b = 0; slot < this.size; slot++, b += 4) {
      if (nsOf[slot] !== nsId) {
        distance[slot] = far;
        continue;
      }
      let x0 = q0 ^ prefix[b]!;
      let x1 = q1 ^ prefix[b + 1]!;
      let x2 = q2 ^ prefix[b + 2]!;
      let x3 = q3 ^ prefix[b + 3]!;
      x0 -= (x0 >>> 1) & 0x55555555;
      x1 -= (x1 >>> 1) & 0x55555555;
      x2 -= (x2 >>> 1) & 0x55555555;
      x3 -= (x3 >>> 1) & 0x55555555;
      // Bit counts per nibble (at most 4), two words added (at most 8: no carry).
      const a = (x0 & 0x33333333) + ((x0 >>> 2) & 0x33333333) + (x1 & 0x33333333) + ((x1 >>> 2) & 0x33333333);
      const e = (x2 & 0x33333333) + ((x2 >>> 2) & 0x33333333) + (x3 & 0x33333333) + ((x3 >>> 2) & 0x33333333);
      // Per byte (at most 16 each, 32 together), then the four bytes summed.
      const bytes = (a & 0x0f0f0f0f) + ((a >>> 4) & 0x0f0f0f0f) + (e & 0x0f0f0f0f) + ((e >>> 4) & 0x0f0f0f0f);
      const d = Math.imul(bytes, 0x01010101) >>> 24;
      distance[slot] = d;
      histogram[d]!++;
    }
  }

  /** The `keep` slots of namespace `nsId` whose sign bits differ least from the query's, in two passes. */
  private closestSigns(query: Float32Array, nsId: number, keep: number): Int32Array {
    const q = signsOf(query, this.words);
    const size = this.size;
    const c = this.coarse;
    const far = c * 32 + 1;
    if (this.distance.length < size) this.distance = new Uint8Array(this.ids.length);
    const distance = this.distance;
    const histogram = new Uint32Array(far + 1);
    const prefix = this.prefix;
    const nsOf = this.nsOf;
    // Pass 1: the first `c` words of every vector (16 bytes a vector at 512 dimensions).
    if (c === 4) this.coarsePass4(q, nsId, distance, histogram, far);
    else {
      for (let slot = 0, base = 0; slot < size; slot++, base += c) {
        if (nsOf[slot] !== nsId) {
          distance[slot] = far;
          continue;
        }
        let d = 0;
        for (let i = 0; i < c; i++) d += popcount(q[i]! ^ prefix[base + i]!);
        distance[slot] = d;
        histogram[d]!++;
      }
    }
    const first = select(distance, size, histogram, far, c === this.words ? keep : keep * COARSE_KEEP);
    if (c === this.words) return first;
    // Pass 2: every sign word of those.
    const w = this.words;
    const signs = this.signs;
    const full = new Uint16Array(first.length);
    const histogram2 = new Uint32Array(this.dim + 2);
    for (let n = 0; n < first.length; n++) {
      const base = first[n]! * w;
      let d = 0;
      for (let i = 0; i < w; i++) d += popcount(q[i]! ^ signs[base + i]!);
      full[n] = d;
      histogram2[d]!++;
    }
    const chosen = select(full, first.length, histogram2, this.dim + 1, keep);
    for (let n = 0; n < chosen.length; n++) chosen[n] = first[chosen[n]!]!;
    return chosen;
  }
}

/**
 * The indices (below `count`) of the `keep` smallest distances, in index order, from the distances'
 * histogram: those below the cut, then those at it (taken in index order). `far` marks an excluded row.
 */
function select(
  distance: Uint8Array | Uint16Array,
  count: number,
  histogram: Uint32Array,
  far: number,
  keep: number,
): Int32Array {
  let cut = 0;
  let below = 0;
  for (; cut < far && below + histogram[cut]! < keep; cut++) below += histogram[cut]!;
  const atCutTotal = cut < far ? histogram[cut]! : 0;
  const out = new Int32Array(Math.min(keep, below + atCutTotal));
  let atCut = out.length - below;
  let n = 0;
  for (let i = 0; i < count && n < out.length; i++) {
    const d = distance[i]!;
    if (d < cut) out[n++] = i;
    else if (d === cut && atCut > 0) {
      out[n++] = i;
      atCut--;
    }
  }
  return out;
}

/** One bit a dimension: set when the component is positive. */
function signsOf(v: ArrayLike<number>, words: number): Uint32Array {
  const out = new Uint32Array(words);
  for (let i = 0; i < v.length; i++) if (v[i]! > 0) out[i >>> 5]! |= 1 << (i & 31);
  return out;
}
