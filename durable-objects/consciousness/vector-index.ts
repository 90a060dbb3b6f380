/**
 * The vectors of the current model in memory, for nearest-neighbour search:
 * one flat array of 8-bit components (a dimension a byte) with a scale per
 * vector, the namespace and entity of each. Filled from SQLite on first use
 * and kept current by the backlog as it stores vectors (embeddings.ts).
 *
 * Up to EXACT_UP_TO vectors, every vector of the namespace is compared with
 * the query. Beyond, each vector's signs (one bit a dimension) are compared
 * first: the rows whose signs differ least from the query's (Hamming distance,
 * 16 words of 32 bits for 512 dimensions) are then ranked exactly. A sixteenth
 * of the memory traffic and no multiplications for the first pass.
 */
import { type Quantized } from "../../lib/embed/vector";

/** Above this many vectors, a first pass over the vectors' signs picks the rows ranked exactly. */
export const EXACT_UP_TO = 20_000;
/** Rows the sign pass keeps for exact ranking: at least this many, and 8 per row asked for. */
const RERANK = 1000;

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

export interface Neighbour {
  /** The row's id (entity 2r, observation 2r + 1). */
  id: number;
  entity: number;
  score: number;
}

export class VectorIndex {
  private bytes = new Int8Array(0);
  private scales = new Float32Array(0);
  private ids = new Float64Array(0);
  private entities = new Float64Array(0);
  private nsOf = new Uint32Array(0);
  /** Sign bits of each vector, `words` 32-bit words a vector. */
  private signs = new Uint32Array(0);
  private readonly words: number;
  private readonly slots = new Map<number, number>();
  private readonly nsIds = new Map<string, number>();
  size = 0;

  constructor(
    readonly model: string,
    readonly dim: number,
  ) {
    this.words = Math.ceil(dim / 32);
  }

  private grow(): void {
    const cap = Math.max(1024, this.ids.length * 2);
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
    this.signs.set(signsOf(q.bytes, this.words), slot * this.words);
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
      this.slots.set(this.ids[slot]!, slot);
    }
  }

  /** Bytes held by the index. */
  get bytesHeld(): number {
    return this.bytes.byteLength + this.signs.byteLength + this.ids.length * (4 + 8 + 8 + 4);
  }

  /**
   * The `k` rows of namespace `ns` nearest to the unit vector `query` (cosine), best first. The query is
   * scaled to 8 bits as well, so the inner loop multiplies small integers.
   */
  nearest(query: Float32Array, ns: string, k: number, exact = this.size <= EXACT_UP_TO): Neighbour[] {
    const nsId = this.nsIds.get(ns);
    if (nsId === undefined || query.length !== this.dim || k <= 0) return [];
    const slots = exact ? undefined : this.closestSigns(query, nsId, Math.max(RERANK, 8 * k));
    let max = 0;
    for (let i = 0; i < query.length; i++) max = Math.max(max, Math.abs(query[i]!));
    const qs = max > 0 ? max / 127 : 1;
    const q = new Int32Array(this.dim);
    for (let i = 0; i < this.dim; i++) q[i] = Math.round(query[i]! / qs);
    const dim = this.dim;
    const bytes = this.bytes;
    // A bounded list of the best k, kept sorted (k is small: tens).
    const bestSlot: number[] = [];
    const bestScore: number[] = [];
    const count = slots ? slots.length : this.size;
    for (let n = 0; n < count; n++) {
      const slot = slots ? slots[n]! : n;
      if (this.nsOf[slot] !== nsId) continue;
      let s = 0;
      const base = slot * dim;
      for (let i = 0; i < dim; i++) s += q[i]! * bytes[base + i]!;
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

  /** The `keep` slots of namespace `nsId` whose sign bits differ least from the query's (ties: all at the cut). */
  private closestSigns(query: Float32Array, nsId: number, keep: number): Int32Array {
    const q = signsOf(query, this.words);
    const w = this.words;
    const signs = this.signs;
    const distance = new Uint16Array(this.size);
    const histogram = new Uint32Array(this.dim + 2);
    for (let slot = 0; slot < this.size; slot++) {
      if (this.nsOf[slot] !== nsId) {
        distance[slot] = this.dim + 1;
        continue;
      }
      let d = 0;
      const base = slot * w;
      for (let i = 0; i < w; i++) d += popcount(q[i]! ^ signs[base + i]!);
      distance[slot] = d;
      histogram[d]!++;
    }
    let cut = 0;
    for (let seen = 0; cut <= this.dim && seen + histogram[cut]! < keep; cut++) seen += histogram[cut]!;
    const out: number[] = [];
    for (let slot = 0; slot < this.size; slot++) if (distance[slot]! <= cut) out.push(slot);
    return Int32Array.from(out);
  }
}

/** One bit a dimension: set when the component is positive. */
function signsOf(v: ArrayLike<number>, words: number): Uint32Array {
  const out = new Uint32Array(words);
  for (let i = 0; i < v.length; i++) if (v[i]! > 0) out[i >>> 5]! |= 1 << (i & 31);
  return out;
}
