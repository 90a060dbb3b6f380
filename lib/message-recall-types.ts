/** Recall of messages by meaning (POST/GET /messages/recall): the request and the answer. */
import { z } from "zod";
import { recallLimit, recallQuery } from "./recall-types";
import type { Message, MessageRow } from "./state-types";

export const MESSAGE_RECALL_LIMITS = { results: 50, defaultResults: 5 } as const;

export const MessageRecallSchema = z.object({
  query: recallQuery("What the messages are about, in natural language"),
  limit: recallLimit(MESSAGE_RECALL_LIMITS.results, MESSAGE_RECALL_LIMITS.defaultResults, "messages"),
});
export type MessageRecallRequest = z.infer<typeof MessageRecallSchema>;

export interface MessageRecallAnswer {
  query: string;
  model: string | null;
  /** The messages nearest in meaning to the query, best first, with their cosine (or, in a fallback, newest first). */
  results: (Message & { score: number })[];
  /** Present when the query could not be embedded: the results are the newest messages holding a word of it. */
  fallback?: true;
  reason?: string;
  /** Rows (memories and messages) still waiting for their vector. */
  pending: number;
  took_ms: number;
}

/** The answer as the state object gives it (rows as stored; the worker shapes them with toMessage). */
export type MessageRecallRows = Omit<MessageRecallAnswer, "results"> & { results: (MessageRow & { score: number })[] };
