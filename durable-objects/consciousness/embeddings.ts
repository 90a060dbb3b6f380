/**
 * The embedding backlog: turns queued rows (embed-queue.ts) into vectors of
 * the current model, a batch at a time, from the state object's alarm. Each
 * batch reads its texts, asks the embedder (outside any transaction: writes go
 * on meanwhile), then stores the vectors and takes the rows off the queue,
 * unless they were queued again in between. A failure keeps the rows queued
 * and waits before the next try (exponential backoff). A change of model
 * queues every row without a vector of the new model; the old model's vectors
 * are never read again and are replaced row by row.
 */
import { EMBED_BATCH, EmbedError, embed, type EmbedderSpec } from "../../lib/embed/client";
import { quantize } from "../../lib/embed/vector";
import { all, one } from "../../lib/sql";
import { queueMissing } from "./embed-queue";
import { entityText, MESSAGES_NS, messageText, observationText } from "./entity-texts";
import { VectorIndex, type Neighbour } from "./vector-index";

/** A query's embedding must come quickly: a recall falls back to words rather than wait. */
const QUERY_TIMEOUT_MS = 5000;

export type Embedder = Extract<EmbedderSpec, { kind: "builtin" | "remote" }>;
/** Turns texts into unit vectors; the real one is lib/embed/client.ts embed(). */
export type EmbedFn = (spec: Embedder, texts: string[], dimension?: number) => Promise<Float32Array[]>;

/** At most this many observations (and characters) of an entity go into its vector's text. */
const ENTITY_OBSERVATIONS = 12;
const MIN_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 5 * 60 * 1000;
/** The embedding rate is measured over this window. */
const RATE_WINDOW_MS = 60_000;

export interface EmbedStatus {
  state: "off" | "idle" | "working" | "failing";
  embedder: "builtin" | "remote" | "off";
  model: string | null;
  dimension: number | null;
  pending: number;
  done: number;
  /** Rows embedded a second over the last minute. */
  rate_per_second: number;
  embedded_total: number;
  failures_total: number;
  last_error: string | null;
  retry_in_ms: number | null;
  reason?: string;
}

export class EmbedBacklog {
  private reconciled: string | undefined;
  private index: VectorIndex | undefined;
  private failures = 0;
  private failuresTotal = 0;
  private embeddedTotal = 0;
  private retryAt = 0;
  private lastError: string | null = null;
  private readonly recent: { t: number; n: number }[] = [];
  private running = false;

  constructor(
    private readonly sql: SqlStorage,
    private readonly transaction: <T>(fn: () => T) => T,
    private readonly embedFn: EmbedFn = (spec, texts, dimension) =>
      embed(spec, texts, dimension === undefined ? {} : { dimension }),
  ) {}

  private meta(key: string): string | undefined {
    return one<{ value: string }>(this.sql, "SELECT value FROM meta WHERE key = ?", key)?.value;
  }
  private setMeta(key: string, value: string): void {
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }

  /** The dimension of the current model's vectors, once one was stored. */
  dimension(model: string): number | undefined {
    const d = this.meta(`embed_dim:${model}`);
    return d === undefined ? undefined : Number(d);
  }

  /** Queues what the current model has not embedded (once per model and start). */
  reconcile(model: string): void {
    if (this.reconciled === model) return;
    this.transaction(() => {
      queueMissing(this.sql, model);
      this.setMeta("embed_model", model);
    });
    this.reconciled = model;
    if (this.index && this.index.model !== model) this.index = undefined;
  }

  pending(): number {
    return one<{ n: number }>(this.sql, "SELECT count(*) AS n FROM embed_pending")!.n;
  }

  /** Whether any row waits (cheaper than counting them: the alarm asks after every batch). */
  hasPending(): boolean {
    return one(this.sql, "SELECT 1 AS x FROM embed_pending LIMIT 1") !== undefined;
  }

  /** Failed embedder calls since this object started. */
  get failureCount(): number {
    return this.failuresTotal;
  }

  /** When the next batch may run: now when work is queued and no backoff holds it, else undefined. */
  nextRun(spec: EmbedderSpec, now = Date.now()): number | undefined {
    if (spec.kind === "off") return undefined;
    if (this.reconciled !== spec.id) return now;
    if (!this.hasPending()) return undefined;
    return Math.max(now, this.retryAt);
  }

  /** Embeds one batch; returns how many rows got vectors. Never throws: a failure is counted and backed off. */
  async runBatch(spec: EmbedderSpec, batch = EMBED_BATCH): Promise<number> {
    if (spec.kind === "off" || this.running || Date.now() < this.retryAt) return 0;
    this.running = true;
    try {
      this.reconcile(spec.id);
      const rows = this.texts(batch);
      if (rows.live.length === 0) return 0;
      const dim = this.dimension(spec.id);
      let vectors: Float32Array[];
      try {
        vectors = await this.embedFn(
          spec,
          rows.live.map((r) => r.text),
          dim,
        );
      } catch (e) {
        this.failures++;
        this.failuresTotal++;
        this.lastError = e instanceof EmbedError ? e.message : `the embedder failed: ${String(e)}`;
        this.retryAt = Date.now() + Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** (this.failures - 1));
        return 0;
      }
      this.failures = 0;
      this.retryAt = 0;
      this.lastError = null;
      this.store(spec.id, rows.live, vectors);
      this.embeddedTotal += vectors.length;
      this.recent.push({ t: Date.now(), n: vectors.length });
      return vectors.length;
    } finally {
      this.running = false;
    }
  }

  /** The next queued rows with their texts; rows that are gone leave the queue (and lose their vectors) here. */
  private texts(batch: number): { live: Queued[] } {
    const queued = all<{ id: number; version: number }>(
      this.sql,
      `SELECT id, version FROM embed_pending ORDER BY id LIMIT ${batch}`,
    );
    const live: Queued[] = [];
    const gone: number[] = [];
    for (const q of queued) {
      const row =
        q.id < 0 ? this.messageText(-q.id) : q.id % 2 === 0 ? this.entityText(q.id / 2) : this.observationText((q.id - 1) / 2);
      if (row) live.push({ ...q, ...row });
      else gone.push(q.id);
    }
    if (gone.length) {
      this.transaction(() => {
        for (const id of gone) {
          this.sql.exec("DELETE FROM embed_pending WHERE id = ?", id);
          this.sql.exec("DELETE FROM vectors WHERE id = ?", id);
          this.index?.remove(id);
        }
      });
    }
    return { live };
  }

  private entityText(rowid: number): { text: string; ns: string; entity: number } | undefined {
    const e = one<{ ns: string; name: string; entity_type: string }>(
      this.sql,
      "SELECT ns, name, entity_type FROM entities WHERE rowid = ? AND deleted = 0",
      rowid,
    );
    if (!e) return undefined;
    const obs = all<{ content: string }>(
      this.sql,
      `SELECT content FROM observations WHERE ns = ? AND entity = ? AND removed = 0 ORDER BY rowid LIMIT ${ENTITY_OBSERVATIONS}`,
      e.ns,
      e.name,
    ).map((o) => o.content);
    return { text: entityText(e.name, e.entity_type, obs), ns: e.ns, entity: rowid };
  }

  private messageText(rowid: number): { text: string; ns: string; entity: number } | undefined {
    const m = one<{ message_type: string; content: string }>(
      this.sql,
      "SELECT message_type, content FROM messages WHERE rowid = ?",
      rowid,
    );
    return m ? { text: messageText(m.message_type, m.content), ns: MESSAGES_NS, entity: -rowid } : undefined;
  }

  private observationText(rowid: number): { text: string; ns: string; entity: number } | undefined {
    const o = one<{ ns: string; content: string; entity: number; name: string }>(
      this.sql,
      `SELECT o.ns AS ns, o.content AS content, e.rowid AS entity, e.name AS name FROM observations o
         CROSS JOIN entities e ON e.ns = o.ns AND e.name = o.entity
        WHERE o.rowid = ? AND o.removed = 0 AND e.deleted = 0`,
      rowid,
    );
    return o ? { text: observationText(o.name, o.content), ns: o.ns, entity: o.entity } : undefined;
  }

  private store(model: string, rows: Queued[], vectors: Float32Array[]): void {
    const dim = vectors[0]!.length;
    this.transaction(() => {
      if (this.dimension(model) === undefined) this.setMeta(`embed_dim:${model}`, String(dim));
      rows.forEach((r, i) => {
        const q = quantize(vectors[i]!);
        this.sql.exec(
          `INSERT INTO vectors (id, model, dim, scale, vec, ns, entity) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET model = excluded.model, dim = excluded.dim, scale = excluded.scale,
             vec = excluded.vec, ns = excluded.ns, entity = excluded.entity`,
          r.id,
          model,
          dim,
          q.scale,
          q.bytes.buffer as ArrayBuffer,
          r.ns,
          r.entity,
        );
        // Queued again while the embedder worked (a newer text): stays queued.
        this.sql.exec("DELETE FROM embed_pending WHERE id = ? AND version = ?", r.id, r.version);
        if (this.index?.model === model) this.index.put(r.id, q, r.ns, r.entity);
      });
    });
  }

  /**
   * The `k` stored vectors of namespace `ns` nearest to a query, the query's embedding included (from
   * the backlog's embedder, checked against the stored vectors' dimension, waiting at most
   * QUERY_TIMEOUT_MS: a recall answers from words rather than wait). Throws an EmbedError when the
   * embedder cannot embed it.
   */
  async nearestToQuery(spec: Embedder, query: string, ns: string, k: number): Promise<Neighbour[]> {
    const index = this.vectors(spec.id);
    const [q] = await this.embedFn({ ...spec, timeoutMs: Math.min(spec.timeoutMs, QUERY_TIMEOUT_MS) }, [query], index?.dim);
    return index?.nearest(q!, ns, k) ?? [];
  }

  /** The in-memory index of the current model's vectors (loaded on first use). */
  vectors(model: string): VectorIndex | undefined {
    const dim = this.dimension(model);
    if (dim === undefined) return undefined;
    if (!this.index || this.index.model !== model || this.index.dim !== dim) {
      const index = new VectorIndex(model, dim);
      for (const [id, scale, vec, ns, entity] of this.sql
        .exec("SELECT id, scale, vec, ns, entity FROM vectors WHERE model = ? AND dim = ?", model, dim)
        .raw<[number, number, ArrayBuffer, string, number]>()) {
        index.put(id, { bytes: new Int8Array(vec), scale }, ns, entity);
      }
      this.index = index;
    }
    return this.index;
  }

  status(spec: EmbedderSpec, now = Date.now()): EmbedStatus {
    while (this.recent.length && this.recent[0]!.t < now - RATE_WINDOW_MS) this.recent.shift();
    const span = this.recent.length ? Math.max(1000, now - this.recent[0]!.t) : RATE_WINDOW_MS;
    const rate = this.recent.reduce((n, r) => n + r.n, 0) / (span / 1000);
    const pending = this.pending();
    const model = spec.kind === "off" ? null : spec.id;
    const done = model ? one<{ n: number }>(this.sql, "SELECT count(*) AS n FROM vectors WHERE model = ?", model)!.n : 0;
    const failing = this.lastError !== null;
    return {
      state: spec.kind === "off" ? "off" : failing ? "failing" : pending > 0 || this.reconciled !== model ? "working" : "idle",
      embedder: spec.kind,
      model,
      dimension: model ? (this.dimension(model) ?? null) : null,
      pending,
      done,
      rate_per_second: Math.round(rate * 10) / 10,
      embedded_total: this.embeddedTotal,
      failures_total: this.failuresTotal,
      last_error: this.lastError,
      retry_in_ms: failing ? Math.max(0, this.retryAt - now) : null,
      ...(spec.kind === "off" ? { reason: spec.reason } : {}),
    };
  }
}

interface Queued {
  id: number;
  version: number;
  text: string;
  ns: string;
  entity: number;
}
