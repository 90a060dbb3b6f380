/** Messages and live editing contexts: replicated rows, like the graph. */
import type { ContextInput, ContextRow, JsonValue, MessageCursor, MessageInput, MessageRow } from "../../lib/state-types";
import { all, limit as rowLimit, one } from "../../lib/sql";
import type { Stamp } from "./graph";

export class RecordStore {
  constructor(private readonly sql: SqlStorage) {}

  addMessage(input: MessageInput, defaultFrom: string, s: Stamp, now: Date): MessageRow {
    const id = crypto.randomUUID();
    this.sql.exec(
      `INSERT INTO messages (id, from_cell, to_cell, message_type, content, priority, metadata, created_at, hlc, origin, oseq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      id,
      input.from_cell ?? defaultFrom,
      input.to_cell ?? null,
      input.message_type ?? input.type ?? "message",
      JSON.stringify(input.content),
      JSON.stringify(input.priority),
      JSON.stringify(input.metadata),
      now.toISOString(),
      s.hlc,
      s.origin,
      s.oseq,
    );
    return one<MessageRow>(this.sql, "SELECT * FROM messages WHERE id = ?", id)!;
  }

  /**
   * Newest first (by clock, then id), `limit` at a time; `before` continues after the last message of
   * the page before. `more` says whether older messages remain; `total` counts them all.
   */
  listMessages(
    limit: number,
    fromCell?: string,
    before?: MessageCursor,
  ): { messages: MessageRow[]; total: number; more: boolean } {
    const where = fromCell === undefined ? "" : "WHERE from_cell = ?1";
    const params = fromCell === undefined ? [] : [fromCell];
    const total = one<{ n: number }>(this.sql, `SELECT count(*) AS n FROM messages ${where}`, ...params)!.n;
    const older = before
      ? `${where ? `${where} AND` : "WHERE"} (hlc < ?${params.length + 1} OR (hlc = ?${params.length + 1} AND id > ?${params.length + 2}))`
      : where;
    const rows = all<MessageRow>(
      this.sql,
      `SELECT * FROM messages ${older} ORDER BY hlc DESC, id LIMIT ${rowLimit(limit + 1)}`,
      ...params,
      ...(before ? [before.hlc, before.id] : []),
    );
    return { messages: rows.slice(0, limit), total, more: rows.length > limit };
  }

  context(cellId: string): ContextRow | undefined {
    return one<ContextRow>(this.sql, "SELECT cell_id, data, updated_at FROM contexts WHERE cell_id = ?", cellId);
  }

  contexts(): ContextRow[] {
    return all<ContextRow>(this.sql, "SELECT cell_id, data, updated_at FROM contexts ORDER BY updated_at DESC");
  }

  /** Replaces (or, with `merge`, updates) one cell's context. */
  putContext(cellId: string, input: ContextInput, merge: boolean, s: Stamp, now: Date): ContextRow {
    const existing = merge ? this.context(cellId) : undefined;
    const base = existing ? (JSON.parse(existing.data) as Record<string, JsonValue>) : {};
    const data = { ...base, ...(input as Record<string, JsonValue>) };
    const updated_at = now.toISOString();
    this.sql.exec(
      `INSERT INTO contexts (cell_id, data, updated_at, hlc, origin, oseq) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (cell_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at,
         hlc = excluded.hlc, origin = excluded.origin, oseq = excluded.oseq`,
      cellId,
      JSON.stringify(data),
      updated_at,
      s.hlc,
      s.origin,
      s.oseq,
    );
    return { cell_id: cellId, data: JSON.stringify(data), updated_at };
  }
}
