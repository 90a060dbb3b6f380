/**
 * PeerRegistry: the durable list of peer cells this cell knows, with their
 * health status. Discovery is its only writer.
 */
import { DurableObject } from "cloudflare:workers";
import type { Peer, PeerStatus, PeerSummary } from "../lib/rpc";
import { all, migrate } from "../lib/sql";

const MIGRATIONS = [
  `CREATE TABLE peers (
     cell_id TEXT PRIMARY KEY,
     ip TEXT NOT NULL,
     port INTEGER NOT NULL,
     url TEXT NOT NULL,
     status TEXT NOT NULL,
     first_seen INTEGER NOT NULL,
     last_seen INTEGER NOT NULL,
     consciousness_level REAL,
     services TEXT NOT NULL DEFAULT '[]',
     branch TEXT,
     type TEXT NOT NULL DEFAULT 'cell',
     hostname TEXT,
     source TEXT NOT NULL,
     rtt_ms REAL)`,
];

export interface PeerRow extends Record<string, SqlStorageValue> {
  cell_id: string;
  ip: string;
  port: number;
  url: string;
  status: PeerStatus;
  first_seen: number;
  last_seen: number;
  consciousness_level: number | null;
  services: string;
  branch: string | null;
  type: string;
  hostname: string | null;
  source: string;
  rtt_ms: number | null;
}

export function toPeer(r: PeerRow): Peer {
  return {
    cell_id: r.cell_id,
    ip: r.ip,
    port: r.port,
    url: r.url,
    status: r.status,
    last_seen: new Date(r.last_seen).toISOString(),
    first_seen: new Date(r.first_seen).toISOString(),
    consciousness_level: r.consciousness_level,
    services: JSON.parse(r.services) as string[],
    branch: r.branch,
    type: r.type,
    hostname: r.hostname,
    source: r.source,
    rtt_ms: r.rtt_ms,
  };
}

export class PeerRegistry extends DurableObject {
  constructor(ctx: DurableObjectState, env: object) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      migrate(ctx.storage.sql, MIGRATIONS);
    });
  }

  list(): Peer[] {
    return all<PeerRow>(this.ctx.storage.sql, "SELECT * FROM peers ORDER BY cell_id").map(toPeer);
  }

  summary(): PeerSummary {
    const counts = all<{ status: PeerStatus; n: number }>(
      this.ctx.storage.sql,
      "SELECT status, count(*) AS n FROM peers GROUP BY status",
    );
    const s: PeerSummary = { known: 0, alive: 0, suspect: 0, dead: 0 };
    for (const c of counts) {
      s[c.status] = c.n;
      s.known += c.n;
    }
    return s;
  }
}
