/**
 * A stand-in embedder for the recall tests: each word hashed into one of DIM dimensions, so texts that
 * share words are near and others are not. Deterministic and instant; the real models are tested e2e.
 */
import type { EmbedFn, Embedder } from "../../durable-objects/consciousness/embeddings";
import { normalize } from "../../lib/embed/vector";

export const DIM = 64;

export function hashWords(text: string): Float32Array {
  const v = new Float32Array(DIM);
  for (const w of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    let h = 2166136261;
    for (const c of w) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
    v[(h >>> 0) % DIM]! += 1;
  }
  return normalize(v);
}

export const bagOfWords: EmbedFn = (_spec, texts) => Promise.resolve(texts.map(hashWords));

/** The embedder spec the backlog is given: a remote one that is never called (bagOfWords stands in). */
export const bagSpec = (model = "bag-of-words"): Embedder => ({
  kind: "remote",
  id: `remote:${model}`,
  model,
  endpoint: "http://embedder.invalid/v1/embeddings",
  timeoutMs: 1000,
});
