/**
 * The CRDT merge. Every row carries the stamp of its last change: entities,
 * relations and contexts are last-writer-wins registers ordered by (HLC, cell
 * id); observations are add-wins set elements (a unique tag each, only ever
 * added, then tombstoned); messages never change. Merging compares stamps
 * row by row, so it is commutative, associative and idempotent.
 */
import { compareStamp } from "../../lib/hlc";
import { all, limit as rowLimit, one } from "../../lib/sql";
import type { SyncRow, VersionVector } from "../../lib/sync-types";

type Row<T extends SyncRow["t"]> = Extract<SyncRow, { t: T }>;

type Current = {
  rowid: number;
  hlc: string;
  origin: string;
};

export class Replication {
  constructor(
    private readonly sql: SqlStorage,
    private readonly self: string,
  ) {}

  /**
   * Our latest row still stamped by us: its sequence number and clock, read through the (origin,
   * oseq) indexes. The state object stores its clock shortly after writes, not with each one; after
   * a crash in between, this is how it finds the numbers it already used.
   */
  lastOwnStamp(): { oseq: number; hlc: string } | undefined {
    let last: { oseq: number; hlc: string } | undefined;
    for (const table of ["entities", "observations", "relations", "messages", "contexts"]) {
      const row = one<{ oseq: number; hlc: string }>(
        this.sql,
        `SELECT oseq, hlc FROM ${table} WHERE origin = ? ORDER BY oseq DESC LIMIT 1`,
        this.self,
      );
      if (row && (!last || row.oseq > last.oseq)) last = row;
    }
    return last;
  }

  /** Our version vector; `ownSeq` is our own latest sequence number. */
  versionVector(ownSeq: number): VersionVector {
    const vv: VersionVector = {};
    for (const r of all<{ origin: string; seq: number }>(this.sql, "SELECT origin, seq FROM vv")) vv[r.origin] = r.seq;
    if (ownSeq > 0) vv[this.self] = ownSeq;
    return vv;
  }

  /** The changes the holder of `theirs` lacks, oldest first per cell, at most `limit`. */
  changesSince(theirs: VersionVector, ownSeq: number, limit: number): { rows: SyncRow[]; more: boolean } {
    const ours = this.versionVector(ownSeq);
    const rows: SyncRow[] = [];
    let more = false;
    for (const origin of Object.keys(ours).sort()) {
      const after = theirs[origin] ?? 0;
      if (ours[origin]! <= after) continue;
      const room = limit - rows.length;
      if (room <= 0) {
        more = true;
        break;
      }
      const batch = this.rowsOf(origin, after, room + 1);
      if (batch.length > room) more = true;
      rows.push(...batch.slice(0, room));
      if (more) break;
    }
    return { rows, more };
  }

  private rowsOf(origin: string, after: number, limit: number): SyncRow[] {
    const q = (sql: string) =>
      all<Record<string, SqlStorageValue>>(
        this.sql,
        `${sql} WHERE origin = ? AND oseq > ? ORDER BY oseq LIMIT ${rowLimit(limit)}`,
        origin,
        after,
      );
    const rows: SyncRow[] = [
      ...q("SELECT ns, name, entity_type, deleted, hlc, origin, oseq FROM entities").map((r): SyncRow => ({
        t: "e",
        ns: s(r.ns),
        n: s(r.name),
        y: s(r.entity_type),
        d: bit(r.deleted),
        h: s(r.hlc),
        o: s(r.origin),
        s: n(r.oseq),
      })),
      ...q("SELECT tag, ns, entity, content, added_hlc, removed, hlc, origin, oseq FROM observations").map((r): SyncRow => ({
        t: "o",
        g: s(r.tag),
        ns: s(r.ns),
        n: s(r.entity),
        c: s(r.content),
        a: s(r.added_hlc),
        d: bit(r.removed),
        h: s(r.hlc),
        o: s(r.origin),
        s: n(r.oseq),
      })),
      ...q("SELECT ns, from_entity, to_entity, relation_type, deleted, hlc, origin, oseq FROM relations").map((r): SyncRow => ({
        t: "r",
        ns: s(r.ns),
        f: s(r.from_entity),
        to: s(r.to_entity),
        y: s(r.relation_type),
        d: bit(r.deleted),
        h: s(r.hlc),
        o: s(r.origin),
        s: n(r.oseq),
      })),
      ...q(
        "SELECT id, from_cell, to_cell, message_type, content, priority, metadata, created_at, hlc, origin, oseq FROM messages",
      ).map((r): SyncRow => ({
        t: "m",
        id: s(r.id),
        fc: s(r.from_cell),
        tc: r.to_cell === null || r.to_cell === undefined ? null : s(r.to_cell),
        mt: s(r.message_type),
        c: s(r.content),
        p: s(r.priority),
        md: s(r.metadata),
        at: s(r.created_at),
        h: s(r.hlc),
        o: s(r.origin),
        s: n(r.oseq),
      })),
      ...q("SELECT cell_id, data, updated_at, hlc, origin, oseq FROM contexts").map((r): SyncRow => ({
        t: "c",
        cell: s(r.cell_id),
        data: s(r.data),
        at: s(r.updated_at),
        h: s(r.hlc),
        o: s(r.origin),
        s: n(r.oseq),
      })),
    ];
    return rows.sort((a, b) => a.s - b.s).slice(0, limit);
  }

  /** Merges rows from another replica; returns how many changed our state. */
  apply(rows: SyncRow[]): number {
    let changed = 0;
    const seen = new Map<string, number>();
    for (const row of rows) {
      if (this.applyRow(row)) changed++;
      seen.set(row.o, Math.max(seen.get(row.o) ?? 0, row.s));
    }
    for (const [origin, seq] of seen) {
      if (origin === this.self) continue;
      this.sql.exec(
        "INSERT INTO vv (origin, seq) VALUES (?, ?) ON CONFLICT (origin) DO UPDATE SET seq = max(vv.seq, excluded.seq)",
        origin,
        seq,
      );
    }
    return changed;
  }

  /**
   * After a complete pull (nothing more to send) we hold every change the
   * other replica held: its vector becomes a lower bound of ours. Without this,
   * a change superseded before it reached us would leave a gap that no one can
   * ever fill, and two identical replicas would never look in sync.
   */
  mergeVector(theirs: VersionVector): void {
    for (const [origin, seq] of Object.entries(theirs)) {
      if (origin === this.self) continue;
      this.sql.exec(
        "INSERT INTO vv (origin, seq) VALUES (?, ?) ON CONFLICT (origin) DO UPDATE SET seq = max(vv.seq, excluded.seq)",
        origin,
        seq,
      );
    }
  }

  private newer(row: SyncRow, current: Current | undefined): boolean {
    return current === undefined || compareStamp(row.h, row.o, current.hlc, current.origin) > 0;
  }

  private applyRow(row: SyncRow): boolean {
    switch (row.t) {
      case "e":
        return this.applyEntity(row);
      case "o":
        return this.applyObservation(row);
      case "r":
        return this.applyRelation(row);
      case "m":
        return this.applyMessage(row);
      case "c":
        return this.applyContext(row);
    }
  }

  private applyEntity(r: Row<"e">): boolean {
    const cur = one<Current>(this.sql, "SELECT rowid, hlc, origin FROM entities WHERE ns = ? AND name = ?", r.ns, r.n);
    if (!this.newer(r, cur)) return false;
    // A trigger queues the row for the search indexes, or takes it out of them (schema.ts).
    this.sql.exec(
      `INSERT INTO entities (ns, name, entity_type, deleted, hlc, origin, oseq) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (ns, name) DO UPDATE SET entity_type = excluded.entity_type, deleted = excluded.deleted,
         hlc = excluded.hlc, origin = excluded.origin, oseq = excluded.oseq`,
      r.ns,
      r.n,
      r.y,
      r.d,
      r.h,
      r.o,
      r.s,
    );
    return true;
  }

  private applyObservation(r: Row<"o">): boolean {
    const cur = one<Current>(this.sql, "SELECT rowid, hlc, origin FROM observations WHERE tag = ?", r.g);
    if (!this.newer(r, cur)) return false;
    this.sql.exec(
      `INSERT INTO observations (tag, ns, entity, content, added_hlc, removed, hlc, origin, oseq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tag) DO UPDATE SET removed = excluded.removed, hlc = excluded.hlc, origin = excluded.origin, oseq = excluded.oseq`,
      r.g,
      r.ns,
      r.n,
      r.c,
      r.a,
      r.d,
      r.h,
      r.o,
      r.s,
    );
    return true;
  }

  private applyRelation(r: Row<"r">): boolean {
    const cur = one<Current>(
      this.sql,
      "SELECT rowid, hlc, origin FROM relations WHERE ns = ? AND from_entity = ? AND to_entity = ? AND relation_type = ?",
      r.ns,
      r.f,
      r.to,
      r.y,
    );
    if (!this.newer(r, cur)) return false;
    this.sql.exec(
      `INSERT INTO relations (ns, from_entity, to_entity, relation_type, deleted, hlc, origin, oseq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (ns, from_entity, to_entity, relation_type) DO UPDATE SET deleted = excluded.deleted,
         hlc = excluded.hlc, origin = excluded.origin, oseq = excluded.oseq`,
      r.ns,
      r.f,
      r.to,
      r.y,
      r.d,
      r.h,
      r.o,
      r.s,
    );
    return true;
  }

  private applyMessage(r: Row<"m">): boolean {
    const cur = one<Current>(this.sql, "SELECT rowid, hlc, origin FROM messages WHERE id = ?", r.id);
    if (cur) return false;
    this.sql.exec(
      `INSERT INTO messages (id, from_cell, to_cell, message_type, content, priority, metadata, created_at, hlc, origin, oseq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      r.id,
      r.fc,
      r.tc,
      r.mt,
      r.c,
      r.p,
      r.md,
      r.at,
      r.h,
      r.o,
      r.s,
    );
    return true;
  }

  private applyContext(r: Row<"c">): boolean {
    const cur = one<Current>(this.sql, "SELECT rowid, hlc, origin FROM contexts WHERE cell_id = ?", r.cell);
    if (!this.newer(r, cur)) return false;
    this.sql.exec(
      `INSERT INTO contexts (cell_id, data, updated_at, hlc, origin, oseq) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (cell_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at,
         hlc = excluded.hlc, origin = excluded.origin, oseq = excluded.oseq`,
      r.cell,
      r.data,
      r.at,
      r.h,
      r.o,
      r.s,
    );
    return true;
  }

  /**
   * A digest of the replica's whole content: equal digests, equal state.
   * Independent of the order rows arrived in, and of local row ids.
   */
  async contentDigest(): Promise<string> {
    const parts: string[] = [];
    const add = (sql: string) => {
      for (const r of all<{ k: string }>(this.sql, sql)) parts.push(r.k);
    };
    add(
      "SELECT 'e|' || ns || '|' || name || '|' || entity_type || '|' || deleted || '|' || hlc || '|' || origin AS k FROM entities",
    );
    add("SELECT 'o|' || tag || '|' || removed || '|' || hlc AS k FROM observations");
    add(
      "SELECT 'r|' || ns || '|' || from_entity || '|' || to_entity || '|' || relation_type || '|' || deleted || '|' || hlc AS k FROM relations",
    );
    add("SELECT 'm|' || id AS k FROM messages");
    add("SELECT 'c|' || cell_id || '|' || hlc || '|' || origin AS k FROM contexts");
    parts.sort();
    const bytes = new TextEncoder().encode(parts.join("\n"));
    const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    return [...hash].map((b) => b.toString(16).padStart(2, "0")).join("");
  }

  /**
   * Drops tombstones every known peer already holds (its version vector covers
   * the tombstone's stamp) and that are older than `minAgeMs`.
   */
  collectTombstones(peerVectors: VersionVector[], olderThanHlc: string): number {
    if (peerVectors.length === 0) return 0;
    let removed = 0;
    const covered = (origin: string, seq: number) => peerVectors.every((v) => (v[origin] ?? 0) >= seq);
    for (const [table, flagCol] of [
      ["entities", "deleted"],
      ["observations", "removed"],
      ["relations", "deleted"],
    ] as const) {
      const rows = all<{ rowid: number; origin: string; oseq: number }>(
        this.sql,
        `SELECT rowid, origin, oseq FROM ${table} WHERE ${flagCol} = 1 AND hlc < ? LIMIT 5000`,
        olderThanHlc,
      );
      for (const r of rows) {
        if (!covered(r.origin, r.oseq)) continue;
        this.sql.exec(`DELETE FROM ${table} WHERE rowid = ?`, r.rowid);
        removed++;
      }
    }
    return removed;
  }
}

const s = (v: SqlStorageValue | undefined) => String(v);
const n = (v: SqlStorageValue | undefined) => Number(v);
const bit = (v: SqlStorageValue | undefined): 0 | 1 => (Number(v) ? 1 : 0);
