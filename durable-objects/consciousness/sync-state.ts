/** Per-peer sync bookkeeping: what /peers, /consciousness and the metrics report. */
import { all, one } from "../../lib/sql";
import type { VersionVector } from "../../lib/sync-types";

export interface PeerSync {
  peer_id: string;
  last_attempt: string | null;
  last_success: string | null;
  last_error: string | null;
  lag_seconds: number | null;
  in_sync: boolean;
  rounds_ok: number;
  rounds_failed: number;
  rows_sent: number;
  rows_received: number;
  bytes_sent: number;
  bytes_received: number;
}

type Row = {
  peer_id: string;
  last_attempt: number | null;
  last_success: number | null;
  last_error: string | null;
  in_sync: number;
  rounds_ok: number;
  rounds_failed: number;
  rows_sent: number;
  rows_received: number;
  bytes_sent: number;
  bytes_received: number;
  peer_vv: string | null;
};

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export class SyncState {
  constructor(private readonly sql: SqlStorage) {}

  private ensure(peer: string): void {
    this.sql.exec("INSERT OR IGNORE INTO sync_peers (peer_id) VALUES (?)", peer);
  }

  roundOk(
    peer: string,
    inSync: boolean,
    rowsReceived: number,
    bytesSent: number,
    bytesReceived: number,
    theirVv: VersionVector,
  ): void {
    this.ensure(peer);
    const now = Date.now();
    this.sql.exec(
      `UPDATE sync_peers SET last_attempt = ?, last_success = ?, last_error = NULL, in_sync = ?, rounds_ok = rounds_ok + 1,
         rows_received = rows_received + ?, bytes_sent = bytes_sent + ?, bytes_received = bytes_received + ?, peer_vv = ?
       WHERE peer_id = ?`,
      now,
      now,
      inSync ? 1 : 0,
      rowsReceived,
      bytesSent,
      bytesReceived,
      JSON.stringify(theirVv),
      peer,
    );
  }

  roundFailed(peer: string, error: string): void {
    this.ensure(peer);
    this.sql.exec(
      "UPDATE sync_peers SET last_attempt = ?, last_error = ?, in_sync = 0, rounds_failed = rounds_failed + 1 WHERE peer_id = ?",
      Date.now(),
      error.slice(0, 300),
      peer,
    );
  }

  served(peer: string, rows: number, bytes: number, theirVv: VersionVector, inSync: boolean): void {
    this.ensure(peer);
    this.sql.exec(
      "UPDATE sync_peers SET rows_sent = rows_sent + ?, bytes_sent = bytes_sent + ?, peer_vv = ?, in_sync = CASE WHEN ? THEN in_sync ELSE 0 END WHERE peer_id = ?",
      rows,
      bytes,
      JSON.stringify(theirVv),
      inSync ? 1 : 0,
      peer,
    );
  }

  list(now = Date.now()): PeerSync[] {
    return all<Row>(this.sql, "SELECT * FROM sync_peers ORDER BY peer_id").map((r) => ({
      peer_id: r.peer_id,
      last_attempt: iso(r.last_attempt),
      last_success: iso(r.last_success),
      last_error: r.last_error,
      lag_seconds: r.last_success === null ? null : Math.max(0, (now - r.last_success) / 1000),
      in_sync: r.in_sync === 1,
      rounds_ok: r.rounds_ok,
      rounds_failed: r.rounds_failed,
      rows_sent: r.rows_sent,
      rows_received: r.rows_received,
      bytes_sent: r.bytes_sent,
      bytes_received: r.bytes_received,
    }));
  }

  lastSuccess(): string | null {
    return iso(one<{ t: number | null }>(this.sql, "SELECT max(last_success) AS t FROM sync_peers")!.t);
  }

  /** The version vectors peers last told us, for tombstone collection. */
  peerVectors(peers: string[]): VersionVector[] | undefined {
    const out: VersionVector[] = [];
    for (const p of peers) {
      const r = one<{ peer_vv: string | null }>(this.sql, "SELECT peer_vv FROM sync_peers WHERE peer_id = ?", p);
      if (!r?.peer_vv) return undefined;
      out.push(JSON.parse(r.peer_vv) as VersionVector);
    }
    return out;
  }
}
