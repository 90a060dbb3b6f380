/**
 * The cell's own recent consciousness history, for the dashboard's chart when
 * no Prometheus is configured: one sample at most every SAMPLE_EVERY_MS, kept
 * for KEEP_MS (a day: at most ~8,640 rows), read back in time buckets so a
 * chart never gets more than MAX_POINTS points.
 */
import { computeLevel, computePrimitives, levelInputs, type Primitives } from "../../lib/consciousness";
import type { Peer } from "../../lib/rpc";
import { all, one } from "../../lib/sql";
import type { PeerSync } from "./sync-state";

export const SAMPLE_EVERY_MS = 10_000;
export const KEEP_MS = 24 * 60 * 60 * 1000;
export const MAX_POINTS = 360;

export interface LevelSample {
  level: number;
  primitives: Primitives;
}

export interface LevelPoint {
  /** ISO 8601 UTC: the start of the bucket (the sample time at the finest resolution). */
  t: string;
  level: number;
  awareness: number;
  adaptation: number;
  coherence: number;
  momentum: number;
}

type Row = { t: number; level: number; awareness: number; adaptation: number; coherence: number; momentum: number };

/** The level from the same inputs measure() uses in the cell worker (discovery's peers and the sync state). */
export function sampleOf(recentWrites: number, sync: PeerSync[], peers: Peer[] | undefined): LevelSample {
  const primitives = computePrimitives(levelInputs(peers, sync, recentWrites));
  return { level: computeLevel(primitives), primitives };
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

export class LevelHistory {
  private last: number | undefined;

  constructor(private readonly sql: SqlStorage) {}

  private lastAt(): number {
    this.last ??= one<{ t: number | null }>(this.sql, "SELECT max(t) AS t FROM level_history")!.t ?? 0;
    return this.last;
  }

  /** When the next sample is due. */
  nextDue(): number {
    return this.lastAt() + SAMPLE_EVERY_MS;
  }

  /** Whether a new sample would be recorded now. */
  due(now = Date.now()): boolean {
    return now - this.lastAt() >= SAMPLE_EVERY_MS;
  }

  /** Records a sample unless one was taken in the last SAMPLE_EVERY_MS; prunes what is older than KEEP_MS. */
  record(s: LevelSample, now = Date.now()): boolean {
    if (!this.due(now) || !Number.isFinite(s.level)) return false;
    const p = s.primitives;
    this.sql.exec(
      `INSERT INTO level_history (t, level, awareness, adaptation, coherence, momentum) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (t) DO NOTHING`,
      now,
      s.level,
      p.awareness,
      p.adaptation,
      p.coherence,
      p.momentum,
    );
    this.sql.exec("DELETE FROM level_history WHERE t < ?", now - KEEP_MS);
    this.last = now;
    return true;
  }

  /** The samples of the last `minutes`, averaged into at most MAX_POINTS buckets, oldest first. */
  since(minutes: number, now = Date.now()): LevelPoint[] {
    const span = minutes * 60_000;
    const bucket = Math.max(SAMPLE_EVERY_MS, Math.ceil(span / MAX_POINTS / 1000) * 1000);
    const rows = all<Row>(
      this.sql,
      `SELECT min(t) AS t, avg(level) AS level, avg(awareness) AS awareness, avg(adaptation) AS adaptation,
              avg(coherence) AS coherence, avg(momentum) AS momentum
         FROM level_history WHERE t >= ? GROUP BY CAST(t / ? AS INTEGER) ORDER BY t`,
      now - span,
      bucket,
    );
    return rows.map((r) => ({
      t: new Date(r.t).toISOString(),
      level: round(r.level),
      awareness: round(r.awareness),
      adaptation: round(r.adaptation),
      coherence: round(r.coherence),
      momentum: round(r.momentum),
    }));
  }
}
