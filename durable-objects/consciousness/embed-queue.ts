/**
 * The embedding backlog's queue (embed_pending). Rows join it when they are indexed for search,
 * shortly after their write was acknowledged (search.ts indexPending), so a write pays nothing
 * for recall. A new observation also queues its entity, whose vector holds its observations.
 * Messages (id: minus their rowid) join it in the same batch after their write (queueMessages):
 * they never change, so those above the last rowid seen are the new ones.
 */
import { one } from "../../lib/sql";

const UPSERT = "ON CONFLICT (id) DO UPDATE SET version = version + 1";

/** Queues the rows waiting in search_pending (and the entities of its observations). */
export function queueForEmbedding(sql: SqlStorage): void {
  sql.exec(`INSERT INTO embed_pending (id) SELECT id FROM search_pending WHERE true ${UPSERT}`);
  sql.exec(
    `INSERT INTO embed_pending (id)
       SELECT DISTINCT e.rowid * 2 FROM search_pending p CROSS JOIN observations o ON o.rowid = p.id >> 1
         CROSS JOIN entities e ON e.ns = o.ns AND e.name = o.entity
        WHERE p.id & 1 = 1 AND e.deleted = 0 ${UPSERT}`,
  );
}

/** Queues the messages written (or received) since the last call. Cheap when there are none. */
export function queueMessages(sql: SqlStorage): void {
  const seen = Number(one<{ value: string }>(sql, "SELECT value FROM meta WHERE key = 'embed_messages_seen'")?.value ?? 0);
  const last = one<{ n: number | null }>(sql, "SELECT max(rowid) AS n FROM messages")!.n ?? 0;
  if (last <= seen) return;
  sql.exec(`INSERT INTO embed_pending (id) SELECT -rowid FROM messages WHERE rowid > ? ${UPSERT}`, seen);
  sql.exec(
    "INSERT INTO meta (key, value) VALUES ('embed_messages_seen', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    String(last),
  );
}

/** Queues every live row without a vector of `model`: after a start, a crash, or a change of model. */
export function queueMissing(sql: SqlStorage, model: string): void {
  sql.exec(
    `INSERT INTO embed_pending (id)
       SELECT e.rowid * 2 FROM entities e WHERE e.deleted = 0
          AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.id = e.rowid * 2 AND v.model = ?1)
       UNION ALL
       SELECT o.rowid * 2 + 1 FROM observations o WHERE o.removed = 0
          AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.id = o.rowid * 2 + 1 AND v.model = ?1)
       UNION ALL
       SELECT -m.rowid FROM messages m WHERE NOT EXISTS (SELECT 1 FROM vectors v WHERE v.id = -m.rowid AND v.model = ?1)
     ${UPSERT}`,
    model,
  );
}
