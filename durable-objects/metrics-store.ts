/**
 * MetricsStore: the durable home of every counter and histogram, shared by all
 * workers of a cell, so totals survive isolate and runtime restarts and
 * Prometheus' rate() stays right.
 */
import { DurableObject } from "cloudflare:workers";
import { DURATION_BUCKETS, type CounterDelta, type MetricsBatch } from "../lib/metrics-buffer";
import { Exposition } from "../lib/prom";
import { all, migrate } from "../lib/sql";

const MIGRATIONS = [
  `CREATE TABLE requests (
     service TEXT NOT NULL, route TEXT NOT NULL, status TEXT NOT NULL,
     count INTEGER NOT NULL, sum REAL NOT NULL, buckets TEXT NOT NULL,
     PRIMARY KEY (service, route, status))`,
  `CREATE TABLE counters (
     name TEXT NOT NULL, labels TEXT NOT NULL, value REAL NOT NULL,
     PRIMARY KEY (name, labels))`,
  `CREATE TABLE boots (id TEXT PRIMARY KEY, reason TEXT NOT NULL, at INTEGER NOT NULL)`,
];

/** Help text of the counters other parts of the stack add with `add()`. */
export const COUNTER_HELP: Record<string, string> = {
  aios_sync_rounds_total: "Sync rounds this cell ran against a peer, by result (ok, refused, error).",
  aios_sync_rows_total: "Replicated rows moved by sync, by direction (sent to peers, received from them).",
  aios_sync_bytes_total: "Bytes of sync traffic, by direction (sent to peers, received from them).",
  aios_relay_unreadable_rows_total:
    "Rows from a relay that did not open with the content key (sealed by someone else, or altered), dropped.",
  aios_embed_rows_total: "Rows the embedding backlog turned into vectors (result ok), and failed embedder calls (result failed).",
  aios_runtime_restarts_total: "Times the launcher restarted the runtime after it exited unexpectedly.",
};

export class MetricsStore extends DurableObject<object> {
  /** The last exposition, until the next record() or add() changes a counter: scrapes between flushes cost no SQL. */
  private rendered: string | undefined;

  constructor(ctx: DurableObjectState, env: object) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      migrate(ctx.storage.sql, MIGRATIONS);
    });
  }

  /** Counts each runtime boot once (idempotent by boot id); a boot after a crash is a restart. */
  noteBoot(id: string, reason: string, cellId: string): void {
    const fresh =
      this.ctx.storage.sql.exec("INSERT OR IGNORE INTO boots (id, reason, at) VALUES (?, ?, ?)", id, reason, Date.now())
        .rowsWritten > 0;
    if (fresh && reason === "restart") this.add([{ name: "aios_runtime_restarts_total", labels: { cell_id: cellId }, delta: 1 }]);
  }

  record(batch: MetricsBatch): void {
    this.rendered = undefined;
    const sql = this.ctx.storage.sql;
    for (const r of batch.requests) {
      const row = sql
        .exec<{ count: number; sum: number; buckets: string }>(
          "SELECT count, sum, buckets FROM requests WHERE service = ? AND route = ? AND status = ?",
          r.service,
          r.route,
          r.status,
        )
        .toArray()[0];
      const buckets: number[] = row ? (JSON.parse(row.buckets) as number[]) : new Array<number>(r.buckets.length).fill(0);
      r.buckets.forEach((n, i) => (buckets[i] = (buckets[i] ?? 0) + n));
      sql.exec(
        `INSERT INTO requests (service, route, status, count, sum, buckets) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (service, route, status) DO UPDATE SET count = excluded.count, sum = excluded.sum, buckets = excluded.buckets`,
        r.service,
        r.route,
        r.status,
        (row?.count ?? 0) + r.count,
        (row?.sum ?? 0) + r.sum,
        JSON.stringify(buckets),
      );
    }
  }

  add(deltas: CounterDelta[]): void {
    this.rendered = undefined;
    for (const d of deltas) {
      this.ctx.storage.sql.exec(
        `INSERT INTO counters (name, labels, value) VALUES (?, ?, ?)
         ON CONFLICT (name, labels) DO UPDATE SET value = value + excluded.value`,
        d.name,
        JSON.stringify(sortKeys(d.labels)),
        d.delta,
      );
    }
  }

  /** The stored counters and histograms, in exposition format. */
  exposition(): string {
    this.rendered ??= this.render();
    return this.rendered;
  }

  private render(): string {
    const sql = this.ctx.storage.sql;
    const e = new Exposition();
    e.declare("aios_http_requests_total", "counter", "HTTP requests answered, by service, route pattern and status.");
    const requests = all<{ service: string; route: string; status: string; count: number; sum: number; buckets: string }>(
      sql,
      "SELECT * FROM requests ORDER BY service, route, status",
    );
    for (const r of requests) {
      e.counter("aios_http_requests_total", "", { service: r.service, route: r.route, status: r.status }, r.count);
    }
    // The histogram is per service and route (status folded in), as operators query it.
    const hist = new Map<string, { service: string; route: string; sum: number; buckets: number[] }>();
    for (const r of requests) {
      const key = `${r.service}\u0000${r.route}`;
      const h = hist.get(key) ?? { service: r.service, route: r.route, sum: 0, buckets: [] };
      (JSON.parse(r.buckets) as number[]).forEach((n, i) => (h.buckets[i] = (h.buckets[i] ?? 0) + n));
      h.sum += r.sum;
      hist.set(key, h);
    }
    e.declare("aios_http_request_duration_seconds", "histogram", "Time to answer HTTP requests, by service and route pattern.");
    for (const h of hist.values()) {
      e.histogram(
        "aios_http_request_duration_seconds",
        "",
        { service: h.service, route: h.route },
        DURATION_BUCKETS,
        h.buckets,
        h.sum,
      );
    }
    // Listed with HELP/TYPE even before their first sample, so dashboards and promtool see every family.
    for (const [name, help] of Object.entries(COUNTER_HELP)) e.declare(name, "counter", help);
    for (const c of all<{ name: string; labels: string; value: number }>(sql, "SELECT * FROM counters ORDER BY name, labels")) {
      e.counter(c.name, COUNTER_HELP[c.name] ?? c.name, JSON.parse(c.labels) as Record<string, string>, c.value);
    }
    return e.text();
  }
}

function sortKeys(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}
