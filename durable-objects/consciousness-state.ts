/**
 * ConsciousnessState: the cell's shared state (knowledge graph per namespace,
 * messages, every cell's context) in SQLite. All writes go through `write()`,
 * which runs them in one transaction stamped with this cell's clock, so
 * concurrent requests are serialised and none is lost.
 */
import { DurableObject } from "cloudflare:workers";
import type { CellIdentity } from "./cell-identity";
import type { McpSessions } from "./mcp-sessions";
import type { Entity, Graph, GraphRequest, Outcome, ReadOp, Relation } from "../lib/graph-types";
import { Hlc, decodeHlc, encodeHlc } from "../lib/hlc";
import { identityOf } from "./identity/intercell";
import type { CounterDelta } from "../lib/metrics-buffer";
import { tryRpc, type DiscoveryBinding, type MetricsBinding } from "../lib/rpc";
import { sameVector, type PullRequest, type PullResponse, type SyncRow, type VersionVector } from "../lib/sync-types";
import { Replication } from "./consciousness/replication";
import { SyncLoop, type SyncPeer } from "./consciousness/sync";
import { SyncState, type PeerSync } from "./consciousness/sync-state";
import { RelayLink } from "./consciousness/relay-link";
import { parseRelayList } from "../lib/relay-config";
import { MOMENTUM_WINDOW_SECONDS } from "../lib/consciousness";
import { migrate, one, all } from "../lib/sql";
import type { ContextInput, ContextRow, LevelReport, MessageCursor, MessageInput, MessageRow } from "../lib/state-types";
import { vars } from "../lib/vars";
import { createLogger, type Logger } from "../lib/log";
import { GraphStore, type ObservationsAdded, type Stamp, type Stamper } from "./consciousness/graph";
import { IndexCompaction, indexPending, type Hit } from "./consciousness/search";
import { RecordStore } from "./consciousness/records";
import { MIGRATIONS } from "./consciousness/schema";
import { LevelHistory, sampleOf, type LevelPoint, type LevelSample } from "./consciousness/level-history";
import { embedderOf, type EmbedderSpec } from "../lib/embed/client";
import { EmbedBacklog, type EmbedStatus } from "./consciousness/embeddings";
import { vectorsOf } from "./consciousness/entity-texts";
import { recall, type RecallAnswer, type RecallRequest } from "./consciousness/recall";
import { queueMessages } from "./consciousness/embed-queue";
import { recallMessages } from "./consciousness/message-recall";
import type { MessageRecallRequest, MessageRecallRows } from "../lib/message-recall-types";

export interface StateEnv {
  IDENTITY?: DurableObjectNamespace<CellIdentity>;
  DISCOVERY?: DiscoveryBinding;
  METRICS?: MetricsBinding;
  MCP_SESSIONS?: DurableObjectNamespace<McpSessions>;
}

/** Tombstones are collected once every known peer holds them, and not before this age. */
const TOMBSTONE_MIN_AGE_MS = 60 * 60 * 1000;
const GC_EVERY_MS = 60 * 1000;
/** Rows written are indexed for search (and counted) in batches, this long after a write; search indexes first. */
const BATCH_DELAY_MS = 100;
/** The embedding backlog starts this long after the rows were indexed, so a burst of writes is one batch. */
const EMBED_DELAY_MS = 250;
/** A backlog of at least this many rows is a backfill, logged every BACKFILL_LOG_MS. */
const BACKFILL_LOG_ROWS = 500;
const BACKFILL_LOG_MS = 10_000;

/** What the level needs: cheap, read on every /health and by discovery once a second. */
export interface Pulse {
  recent_writes: number;
  sync: PeerSync[];
  last_sync: string | null;
}

/** The pulse and the size of the state, for /consciousness and the metrics. */
export interface StateStats extends Pulse {
  last_write: string | null;
  entities: number;
  observations: number;
  relations: number;
  messages: number;
  reported_levels: { reporter: string; level: number; source: string; reported_at: string }[];
}

export class ConsciousnessState extends DurableObject<StateEnv> {
  private readonly sql: SqlStorage;
  private readonly graph: GraphStore;
  private readonly records: RecordStore;
  private readonly replication: Replication;
  private readonly syncState: SyncState;
  private readonly sync: SyncLoop;
  /** One link per relay in AIOS_RELAY (none without a cluster secret: there would be no keys). */
  private readonly relays: RelayLink[] = [];
  private readonly levels: LevelHistory;
  private readonly compaction: IndexCompaction;
  private readonly embeds: EmbedBacklog;
  private readonly embedder: EmbedderSpec;
  private backfillLoggedAt = 0;
  private backfillCheckedAt = 0;
  private backfilling = false;
  private readonly cellId: string;
  private readonly log: Logger;
  private hlc = new Hlc();
  private oseq = 0;
  private lastGc = 0;
  private nextRound = 0;
  /** The earliest time a relay link asked for the alarm. */
  private relayDue = Infinity;
  private indexTimer: ReturnType<typeof setTimeout> | undefined;
  private activityMinute = 0;
  private unrecordedWrites = 0;
  /** Writes since the clock was last stored (it is stored with the batch; see the constructor). */
  private clockUnstored = false;
  /** Whether an MCP client may listen for changes (true until the sessions object says nobody does). */
  private watched = true;
  private watchGeneration = 0;
  /** Namespaces whose graph changed since MCP subscribers last heard of it. */
  private touched = new Set<string>();

  constructor(ctx: DurableObjectState, env: StateEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.graph = new GraphStore(this.sql);
    this.records = new RecordStore(this.sql);
    this.cellId = vars(env).AIOS_CELL_ID;
    this.log = createLogger({ service: "cell", cell_id: this.cellId }, vars(env).AIOS_LOG_LEVEL);
    this.replication = new Replication(this.sql, this.cellId);
    this.syncState = new SyncState(this.sql);
    this.levels = new LevelHistory(this.sql);
    this.compaction = new IndexCompaction(this.sql, (fn) => ctx.storage.transactionSync(fn));
    this.embeds = new EmbedBacklog(this.sql, (fn) => ctx.storage.transactionSync(fn));
    this.embedder = vectorsOf(embedderOf(vars(env)));
    this.sync = new SyncLoop({
      cellId: this.cellId,
      state: this.syncState,
      identity: () => identityOf(env.IDENTITY!),
      alivePeers: () => this.alivePeers(),
      vector: () => this.replication.versionVector(this.oseq),
      applyRemote: (rows) => this.applyRemote(rows),
      mergeVector: (vv) => this.mergeVector(vv),
      count: (deltas) => this.count(deltas),
      background: (p) => ctx.waitUntil(p),
    });
    const v = vars(env);
    const secret = v.AIOS_CLUSTER_SECRET;
    if (secret && env.IDENTITY) {
      // vars() has checked and normalised the list (lib/settings.ts).
      for (const url of parseRelayList(v.AIOS_RELAY)) {
        const link: RelayLink = new RelayLink(
          {
            cellId: this.cellId,
            secret,
            state: this.syncState,
            identity: () => identityOf(env.IDENTITY!),
            vector: () => this.replication.versionVector(this.oseq),
            changesSince: (vv, limit) => this.replication.changesSince(vv, this.oseq, limit),
            applyRemote: (rows) => this.applyRemote(rows, link),
            count: (deltas) => this.count(deltas),
            background: (p) => ctx.waitUntil(p),
            wake: (at) => this.wake(at),
          },
          url,
        );
        this.relays.push(link);
      }
    }
    void ctx.blockConcurrencyWhile(async () => {
      migrate(this.sql, MIGRATIONS);
      ctx.storage.transactionSync(() => indexPending(this.sql));
      const meta = new Map(
        all<{ key: string; value: string }>(this.sql, "SELECT key, value FROM meta").map((r) => [r.key, r.value]),
      );
      // The stored clock may lag our last writes by one batch (a crash in between): never reuse a number.
      const own = this.replication.lastOwnStamp();
      const stored = decodeHlc(meta.get("hlc") ?? "") ?? { wall: 0, counter: 0 };
      const used = own ? decodeHlc(own.hlc) : undefined;
      const later = used && (used.wall > stored.wall || (used.wall === stored.wall && used.counter > stored.counter));
      this.hlc = new Hlc(later ? used : stored);
      this.oseq = Math.max(Number(meta.get("oseq") ?? "0"), own?.oseq ?? 0);
      // The sync loop (LAN peers or relays), and the embedding backlog (what was queued before a restart, or a new model).
      if ((this.syncs || this.embedder.kind !== "off") && (await ctx.storage.getAlarm()) === null) {
        await ctx.storage.setAlarm(Date.now() + 100);
      }
    });
  }

  // ---- replication -----------------------------------------------------------

  /** Whether this object runs the sync loop: it can sign, and has LAN peers (discovery) or relays. */
  private get syncs(): boolean {
    return this.env.IDENTITY !== undefined && (this.env.DISCOVERY !== undefined || this.relays.length > 0);
  }

  /**
   * Runs what is due (an anti-entropy round, a level sample, tombstone collection, relay work, a batch
   * of the embedding backlog) and sets the alarm for the next of them: the sync loop wakes every
   * few seconds at most (its interval), whatever the number of peers, and a write does not wait for
   * it (it pokes the peers); the backlog runs while it has work.
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    try {
      if (this.syncs) {
        if (now >= this.nextRound) {
          this.nextRound = now + this.sync.interval();
          await this.sync.round();
          this.nextRound = now + this.sync.interval();
        }
        await this.sampleLevel();
        if (now - this.lastGc >= GC_EVERY_MS) {
          this.lastGc = now;
          await this.collectTombstones();
        }
        for (const link of this.relays) this.relayDue = Math.min(this.relayDue, link.tick(now));
      }
      await this.embedBatch();
    } finally {
      await this.armAlarm();
    }
  }

  private async armAlarm(): Promise<void> {
    const due: number[] = [];
    if (this.syncs) {
      const next = Math.min(this.nextRound, this.lastGc + GC_EVERY_MS, this.levels.nextDue(), this.relayDue);
      // Never sooner than a second: a sample that could not be taken must not make the alarm spin.
      due.push(Math.max(next, Date.now() + 1000));
    }
    this.relayDue = Infinity;
    const embed = this.embeds.nextRun(this.embedder);
    if (embed !== undefined) due.push(Math.max(Date.now(), embed));
    if (due.length) await this.ctx.storage.setAlarm(Math.min(...due));
  }

  // ---- recall: embeddings in the background ------------------------------------

  private async embedBatch(): Promise<void> {
    const failures = this.embeds.failureCount;
    const embedded = await this.embeds.runBatch(this.embedder);
    if (embedded) this.count([{ name: "aios_embed_rows_total", labels: { result: "ok" }, delta: embedded }]);
    if (this.embeds.failureCount > failures) {
      const s = this.embeds.status(this.embedder);
      this.count([{ name: "aios_embed_rows_total", labels: { result: "failed" }, delta: 1 }]);
      this.log.warn("embedding failed; retrying later", { error: s.last_error, retry_in_ms: s.retry_in_ms });
    }
    // The full status counts every row: looked at every BACKFILL_LOG_MS, and when a backfill may be done.
    const now = Date.now();
    if (now - this.backfillCheckedAt >= BACKFILL_LOG_MS || (this.backfilling && !this.embeds.hasPending())) {
      this.backfillCheckedAt = now;
      this.logBackfill(this.embeds.status(this.embedder));
    }
  }

  /**
   * A large backfill (an import of thousands of memories, a change of model) is logged every
   * BACKFILL_LOG_MS while it runs, and once when it is done; the launcher writes the lines to its log.
   */
  private logBackfill(s: EmbedStatus): void {
    const now = Date.now();
    if (s.pending >= BACKFILL_LOG_ROWS && now - this.backfillLoggedAt >= BACKFILL_LOG_MS) {
      this.backfillLoggedAt = now;
      this.backfilling = true;
      const eta = s.rate_per_second > 0 ? Math.round(s.pending / s.rate_per_second) : null;
      this.log.info("embedding backfill", {
        model: s.model,
        pending: s.pending,
        done: s.done,
        rate_per_second: s.rate_per_second,
        eta_seconds: eta,
      });
    } else if (this.backfilling && s.pending === 0) {
      this.backfilling = false;
      this.log.info("embedding backfill done", { model: s.model, vectors: s.done });
    }
  }

  /** After rows were queued for embedding: the alarm runs the backlog soon, unless it is due sooner. */
  private scheduleEmbedding(): void {
    if (this.embedder.kind === "off") return;
    const at = Date.now() + EMBED_DELAY_MS;
    this.ctx.waitUntil(
      this.ctx.storage.getAlarm().then(async (current) => {
        if (current === null || current > at) await this.ctx.storage.setAlarm(at);
      }),
    );
  }

  embedStatus(): EmbedStatus {
    return this.embeds.status(this.embedder);
  }

  /** Recall by meaning and words; the query's embedding is computed here (see recall.ts). */
  async recall(req: RecallRequest): Promise<RecallAnswer> {
    return recall(this.sql, this.embeds, this.embedder, req);
  }

  /** The messages nearest in meaning to a query (message-recall.ts). */
  async recallMessages(req: MessageRecallRequest): Promise<MessageRecallRows> {
    return recallMessages(this.sql, this.embeds, this.embedder, req);
  }

  private async alivePeers(): Promise<SyncPeer[]> {
    const peers = this.env.DISCOVERY ? await tryRpc(() => this.env.DISCOVERY!.peers()) : undefined;
    return (peers ?? []).filter((p) => p.status === "alive").map((p) => ({ cell_id: p.cell_id, url: p.url }));
  }

  private count(deltas: CounterDelta[]): void {
    if (this.env.METRICS) this.ctx.waitUntil(this.env.METRICS.add(deltas).catch(() => undefined));
  }

  /** Serves a peer's pull: the rows its version vector lacks, one page. */
  serve(from: string, req: PullRequest): PullResponse {
    const { rows, more } = this.replication.changesSince(req.vv, this.oseq, req.limit);
    const vv = this.replication.versionVector(this.oseq);
    const bytes = JSON.stringify(rows).length;
    this.syncState.served(from, rows.length, bytes, req.vv, sameVector(vv, req.vv));
    if (rows.length) this.count([{ name: "aios_sync_rows_total", labels: { direction: "sent" }, delta: rows.length }]);
    return { rows, vv, more };
  }

  /** A peer wrote something: pull from it now. */
  async poked(from: string): Promise<void> {
    await this.sync.poked(from);
  }

  /**
   * Merges a page of remote rows in one transaction; returns how many changed our state. Rows that
   * changed it are passed on to the relays (but the one they came from), and LAN peers are poked
   * for rows from a relay.
   */
  applyRemote(rows: SyncRow[], via?: RelayLink): number {
    if (rows.length === 0) return 0;
    const changed = this.ctx.storage.transactionSync(() => {
      for (const r of rows) {
        this.hlc.observe(r.h);
        if (r.o === this.cellId && r.s > this.oseq) this.oseq = r.s;
      }
      const changed = this.replication.apply(rows);
      this.storeClock();
      if (changed) {
        for (const r of rows) if ("ns" in r) this.touched.add(r.ns);
        this.afterWrites(changed);
      }
      return changed;
    });
    if (changed) {
      for (const link of this.relays) if (link !== via) link.soon();
      // Rows from a relay are news to the LAN peers too: they pull now rather than at their next round.
      if (via) this.sync.poke();
    }
    return changed;
  }

  private mergeVector(vv: VersionVector): void {
    if ((vv[this.cellId] ?? 0) > this.oseq) this.bumpOwnSeq(vv[this.cellId]!);
    this.replication.mergeVector(vv);
  }

  /** Makes sure the alarm runs by `at` (a relay link asking for its next poll or sync). */
  private wake(at: number): void {
    this.ctx.waitUntil(
      (async () => {
        const current = await this.ctx.storage.getAlarm();
        if (current === null || current > at) await this.ctx.storage.setAlarm(Math.max(at, Date.now() + 10));
      })(),
    );
  }

  /** A peer holds changes of ours we no longer have (restored from an old copy): never reuse those numbers. */
  private bumpOwnSeq(seq: number): void {
    this.oseq = seq;
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES ('oseq', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      String(seq),
    );
  }

  private async collectTombstones(): Promise<void> {
    const peers = this.env.DISCOVERY ? await tryRpc(() => this.env.DISCOVERY!.peers()) : undefined;
    if (!peers || (peers.length === 0 && this.relays.length === 0)) return;
    // A relay must hold a tombstone too before it goes: cells beyond the relay get it from there.
    const vectors = this.syncState.peerVectors([...peers.map((p) => p.cell_id), ...this.relays.map((r) => r.id)]);
    if (!vectors) return;
    const olderThan = encodeHlc({ wall: Date.now() - TOMBSTONE_MIN_AGE_MS, counter: 0 });
    this.replication.collectTombstones(vectors, olderThan);
  }

  // ---- level history (the dashboard's chart) -----------------------------------

  /** Records the level for the dashboard's history, at most once per 10 s (from the alarm); never fails the alarm. */
  private async sampleLevel(): Promise<void> {
    try {
      if (!this.levels.due()) return;
      const peers = this.env.DISCOVERY ? await tryRpc(() => this.env.DISCOVERY!.peers()) : undefined;
      const pulse = this.pulse();
      this.levels.record(sampleOf(pulse.recent_writes, pulse.sync, peers));
    } catch {
      // A missed sample is a gap in a chart, nothing more.
    }
  }

  /** The level over the last `minutes`; `current` (just measured by the caller) is recorded first if a sample is due. */
  levelHistory(minutes: number, current?: LevelSample): LevelPoint[] {
    if (current) this.levels.record(current);
    return this.levels.since(minutes);
  }

  syncPeers(): PeerSync[] {
    return this.syncState.list();
  }

  async digest(): Promise<{ digest: string; vv: VersionVector }> {
    return { digest: await this.replication.contentDigest(), vv: this.replication.versionVector(this.oseq) };
  }

  /**
   * Runs `fn` in one transaction; each row change it makes gets its own stamp. `atomic = false` is for
   * a change of one statement, atomic by itself: a transaction around it would cost a tenth of a write.
   */
  /** A write; `namespace` names the graph it changes, if it changes one. */
  private write<T>(fn: (stamp: Stamper, now: Date) => T, atomic = true, namespace?: string): T {
    return atomic ? this.ctx.storage.transactionSync(() => this.stamped(fn, namespace)) : this.stamped(fn, namespace);
  }

  private stamped<T>(fn: (stamp: Stamper, now: Date) => T, namespace?: string): T {
    const hlc = this.hlc.tick();
    const before = this.oseq;
    const stamp: Stamper = (): Stamp => ({ hlc, origin: this.cellId, oseq: ++this.oseq });
    try {
      const result = fn(stamp, new Date());
      const changes = this.oseq - before;
      if (changes > 0) {
        if (namespace !== undefined) this.touched.add(namespace);
        this.sync.poke();
        for (const link of this.relays) link.soon();
        this.clockUnstored = true;
        this.afterWrites(changes);
      }
      return result;
    } catch (e) {
      this.oseq = before;
      throw e;
    }
  }

  /**
   * After committed writes: schedules the batch that, shortly after, indexes the queued rows for
   * search and stores the clock and the write count (kept in memory until then; pulse() adds the
   * count not stored yet), so a write pays for none of them.
   */
  private afterWrites(writes: number): void {
    this.unrecordedWrites += writes;
    this.indexTimer ??= setTimeout(() => {
      this.indexTimer = undefined;
      try {
        this.ctx.storage.transactionSync(() => {
          if (this.clockUnstored) this.storeClock();
          this.recordActivity();
          indexPending(this.sql);
          queueMessages(this.sql);
        });
        this.scheduleEmbedding();
        // Only once committed: after a failure the next batch stores them (and the next search indexes the queue).
        this.clockUnstored = false;
        this.unrecordedWrites = 0;
        this.compaction.afterBatch();
        this.notifyWatchers();
      } catch (e) {
        this.log.error("the write batch failed", { error: String(e) });
      }
    }, BATCH_DELAY_MS);
  }

  /** An MCP client subscribed to the graph: tell the sessions object about the next change. */
  watch(): void {
    this.watched = true;
    this.watchGeneration++;
  }

  /** After a batch of changes (ours or a peer's): MCP subscribers hear of it, if any listen. */
  private notifyWatchers(): void {
    const ns = this.env.MCP_SESSIONS;
    const namespaces = [...this.touched];
    this.touched.clear();
    if (!ns || !this.watched || namespaces.length === 0) return;
    const generation = this.watchGeneration;
    this.ctx.waitUntil(
      ns
        .get(ns.idFromName("mcp"))
        .changed(namespaces)
        .then(
          (listening) => {
            if (!listening && generation === this.watchGeneration) this.watched = false;
          },
          () => undefined,
        ),
    );
  }

  /** Stores the clock and our sequence number (after a batch of writes, or with remote rows). */
  private storeClock(): void {
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES ('oseq', ?), ('hlc', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      String(this.oseq),
      encodeHlc(this.hlc.last),
    );
  }

  private recordActivity(): void {
    if (this.unrecordedWrites === 0) return;
    const minute = Math.floor(Date.now() / 60000);
    this.sql.exec(
      "INSERT INTO activity (minute, writes) VALUES (?, ?) ON CONFLICT (minute) DO UPDATE SET writes = writes + excluded.writes",
      minute,
      this.unrecordedWrites,
    );
    if (minute !== this.activityMinute) {
      this.activityMinute = minute;
      this.sql.exec("DELETE FROM activity WHERE minute < ?", minute - 24 * 60);
    }
  }

  /** Rolls back the whole transaction when the outcome is a refusal, so a refused request changes nothing. */
  private writeOutcome<T>(namespace: string, fn: (stamp: Stamper) => Outcome<T>): Outcome<T> {
    try {
      return this.write(
        (stamp) => {
          const outcome = fn(stamp);
          if (!outcome.ok) throw new Refusal(outcome);
          return outcome;
        },
        true,
        namespace,
      );
    } catch (e) {
      if (e instanceof Refusal) return e.outcome as Outcome<T>;
      throw e;
    }
  }

  createEntities(req: GraphRequest<"create_entities">): Outcome<Entity[]> {
    return this.writeOutcome(req.namespace, (s) => this.graph.createEntities(req, s));
  }
  createRelations(req: GraphRequest<"create_relations">): Outcome<Relation[]> {
    return this.writeOutcome(req.namespace, (s) => this.graph.createRelations(req, s));
  }
  addObservations(req: GraphRequest<"add_observations">): Outcome<ObservationsAdded> {
    // Planned first (reads only; a refusal writes nothing), then written. The usual call adds one
    // row: one statement, atomic by itself, so it needs no transaction of its own.
    const plan = this.graph.planObservations(req);
    if (!plan.ok) return plan;
    const rows = plan.value.reduce((n, p) => n + p.addedObservations.length, 0);
    return {
      ok: true,
      value: this.write((s) => this.graph.applyObservations(req.namespace, plan.value, s), rows > 1, req.namespace),
    };
  }
  deleteEntities(req: GraphRequest<"delete_entities">): Outcome<{ deleted: string[] }> {
    return this.writeOutcome(req.namespace, (s) => this.graph.deleteEntities(req, s));
  }
  deleteObservations(req: GraphRequest<"delete_observations">): Outcome<{ removed: number }> {
    return this.writeOutcome(req.namespace, (s) => this.graph.deleteObservations(req, s));
  }
  deleteRelations(req: GraphRequest<"delete_relations">): Outcome<{ removed: number }> {
    return this.writeOutcome(req.namespace, (s) => this.graph.deleteRelations(req, s));
  }
  readGraph(req: GraphRequest<"read_graph">): Graph {
    return this.graph.readGraph(req.namespace);
  }
  searchNodes(req: GraphRequest<"search_nodes">): Graph & { ranked: Hit[] } {
    return this.graph.searchNodes(req);
  }
  /**
   * A read operation's answer as JSON text, for the REST API: a string crosses to the worker as one
   * copy, where the objects it stands for cost the structured clone of every entity twice (written
   * here, read there: an eighth of a search's CPU, measured with callgrind on workerd). Searches and
   * open_nodes get their text from SQLite itself (graph.ts subgraphJson).
   */
  readOpJson(op: ReadOp, req: GraphRequest<ReadOp>): string {
    if (op === "search_nodes") return this.graph.searchNodesJson(req as GraphRequest<"search_nodes">);
    if (op === "open_nodes") return this.graph.openNodesJson(req as GraphRequest<"open_nodes">);
    return JSON.stringify(this.graph.readGraph(req.namespace));
  }
  namespaces(): string[] {
    return this.graph.namespaces();
  }

  postMessage(input: MessageInput): MessageRow {
    return this.write((stamp, now) => this.records.addMessage(input, this.cellId, stamp(), now));
  }
  listMessages(
    limit: number,
    fromCell?: string,
    before?: MessageCursor,
  ): { messages: MessageRow[]; total: number; more: boolean } {
    return this.records.listMessages(limit, fromCell, before);
  }

  putContext(input: ContextInput, merge = false): ContextRow {
    return this.write((stamp, now) => this.records.putContext(this.cellId, input, merge, stamp(), now));
  }
  contexts(): { own: ContextRow | null; all: ContextRow[] } {
    return { own: this.records.context(this.cellId) ?? null, all: this.records.contexts() };
  }

  /** Legacy level report: remembers what the caller said; merges its context into ours. */
  reportLevel(report: LevelReport, reporter: string): { context_processed: boolean } {
    const now = new Date().toISOString();
    this.sql.exec(
      `INSERT INTO reported_levels (reporter, level, source, reported_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (reporter) DO UPDATE SET level = excluded.level, source = excluded.source, reported_at = excluded.reported_at`,
      reporter,
      report.level,
      report.source ?? "api",
      now,
    );
    if (report.context && Object.keys(report.context).length > 0) {
      this.putContext(report.context, true);
      return { context_processed: true };
    }
    return { context_processed: false };
  }

  pulse(): Pulse {
    const since = Math.floor(Date.now() / 60000) - Math.ceil(MOMENTUM_WINDOW_SECONDS / 60) + 1;
    const recent = one<{ n: number | null }>(this.sql, "SELECT sum(writes) AS n FROM activity WHERE minute >= ?", since)!.n ?? 0;
    return {
      recent_writes: recent + this.unrecordedWrites,
      sync: this.syncState.list(),
      last_sync: this.syncState.lastSuccess(),
    };
  }

  stats(): StateStats {
    const last = this.hlc.last;
    return {
      ...this.pulse(),
      last_write: last.wall > 0 ? new Date(last.wall).toISOString() : null,
      ...this.graph.counts(),
      messages: one<{ n: number }>(this.sql, "SELECT count(*) AS n FROM messages")!.n,
      reported_levels: all<{ reporter: string; level: number; source: string; reported_at: string }>(
        this.sql,
        "SELECT reporter, level, source, reported_at FROM reported_levels ORDER BY reported_at DESC LIMIT 20",
      ),
    };
  }
}

class Refusal extends Error {
  constructor(readonly outcome: Outcome<unknown>) {
    super(outcome.ok ? "" : outcome.error);
  }
}
