/** Recall by meaning: the request (validated where it enters) and the answer. */
import { z } from "zod";
import { NamespaceSchema } from "./graph-types";

export const RECALL_LIMITS = {
  query: 1000,
  results: 50,
  defaultResults: 10,
  /** Observations shown per result, the best-matching ones. */
  observations: 3,
  /** Characters of the whole answer's results (names, types, observations): about 2,000 tokens. */
  chars: 8000,
} as const;

export const RECALL_MODES = ["hybrid", "semantic", "keyword"] as const;
export type RecallMode = (typeof RECALL_MODES)[number];

/** A question in natural language, as recall of memories and of messages take it. */
export function recallQuery(description: string) {
  return z
    .string({ error: "query must be a string" })
    .trim()
    .min(1, "query must not be empty")
    .max(RECALL_LIMITS.query, `query is longer than ${RECALL_LIMITS.query} characters`)
    .describe(description);
}

/** How many results at most: 1 to `max`, `fallback` when not given. */
export function recallLimit(max: number, fallback: number, what: string) {
  return z.coerce
    .number({ error: "limit must be a number" })
    .int("limit must be a whole number")
    .min(1, "limit must be at least 1")
    .max(max, `limit must be at most ${max}`)
    .default(fallback)
    .describe(`How many ${what} at most (1-${max}, default ${fallback})`);
}

export const RecallSchema = z.object({
  query: recallQuery("The question or description, in natural language"),
  namespace: NamespaceSchema,
  limit: recallLimit(RECALL_LIMITS.results, RECALL_LIMITS.defaultResults, "entities"),
  mode: z
    .enum(RECALL_MODES, { error: `mode must be one of ${RECALL_MODES.join(", ")}` })
    .default("hybrid")
    .describe("hybrid (default: meaning and words fused), semantic (meaning only) or keyword (words only)"),
});
export type RecallRequest = z.infer<typeof RecallSchema>;

export type RecallSignal = "keyword" | "semantic";

export interface RecallResult {
  name: string;
  entityType: string;
  /** Fused score (reciprocal rank fusion in hybrid mode; cosine or bm25-derived otherwise): higher is better. */
  score: number;
  /** The signals that found it. */
  signals: RecallSignal[];
  /** Its best-matching observations (at most RECALL_LIMITS.observations). */
  observations: string[];
  /** How many observations it has in all. */
  observation_count: number;
}

export interface RecallAnswer {
  query: string;
  namespace: string;
  mode: RecallMode;
  model: string | null;
  results: RecallResult[];
  /** Present when the semantic signal could not be used: the answer comes from the word index. */
  fallback?: true;
  reason?: string;
  /** Present when the size cap cut the answer. */
  truncated?: { max_chars: number; omitted_results: number; omitted_observations: number };
  /** Rows still waiting for their vector: recall by meaning does not see them yet. */
  pending: number;
  took_ms: number;
}
