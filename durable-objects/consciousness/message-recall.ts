/**
 * Messages by meaning. Every message gets a vector in the same backlog as the
 * memories (embeddings.ts; its id there is minus its rowid, apart from the
 * entities' 2r and the observations' 2r + 1), in the vector index under a
 * namespace of its own that no graph namespace can be (they start with a
 * letter or digit). Recall of memories (recall.ts) stays about the graph;
 * POST /messages/recall asks for the messages nearest to a query.
 */
import { EmbedError, type EmbedderSpec } from "../../lib/embed/client";
import type { MessageRecallRequest, MessageRecallRows } from "../../lib/message-recall-types";
import { all } from "../../lib/sql";
import type { MessageRow } from "../../lib/state-types";
import type { EmbedBacklog } from "./embeddings";
import { MESSAGES_NS } from "./entity-texts";
import { queryWords } from "../../lib/embed/fusion";

export async function recallMessages(
  sql: SqlStorage,
  embeds: EmbedBacklog,
  spec: EmbedderSpec,
  req: MessageRecallRequest,
): Promise<MessageRecallRows> {
  const started = Date.now();
  let fallback: string | undefined;
  let results: MessageRecallRows["results"] = [];
  if (spec.kind === "off") fallback = `no embedder: ${spec.reason}`;
  else {
    try {
      const near = await embeds.nearestToQuery(spec, req.query, MESSAGES_NS, req.limit);
      const rows = byRowid(
        sql,
        near.map((n) => -n.id),
      );
      results = near.flatMap((n) => {
        const row = rows.get(-n.id);
        return row ? [{ ...row, score: Math.round(n.score * 1e4) / 1e4 }] : [];
      });
    } catch (e) {
      fallback = e instanceof EmbedError ? e.message : `the embedder failed: ${String(e)}`;
    }
  }
  if (fallback !== undefined) results = byWords(sql, req);
  return {
    query: req.query,
    model: spec.kind === "off" ? null : spec.id,
    results,
    ...(fallback !== undefined ? { fallback: true as const, reason: fallback } : {}),
    pending: embeds.pending(),
    took_ms: Date.now() - started,
  };
}

function byRowid(sql: SqlStorage, rowids: number[]): Map<number, MessageRow> {
  if (rowids.length === 0) return new Map();
  const rows = all<MessageRow & { r: number }>(
    sql,
    "SELECT rowid AS r, * FROM messages WHERE rowid IN (SELECT value FROM json_each(?))",
    JSON.stringify(rowids),
  );
  return new Map(rows.map(({ r, ...row }) => [r, row as MessageRow]));
}

/** Without vectors: the newest messages whose text holds any of the query's words. */
function byWords(sql: SqlStorage, req: MessageRecallRequest): MessageRecallRows["results"] {
  const words = queryWords(req.query).map((t) => t.word);
  if (words.length === 0) return [];
  const where = words.map(() => "instr(lower(content), ?) > 0").join(" OR ");
  return all<MessageRow>(sql, `SELECT * FROM messages WHERE ${where} ORDER BY hlc DESC LIMIT ${req.limit}`, ...words).map(
    (row) => ({ ...row, score: 0 }),
  );
}
