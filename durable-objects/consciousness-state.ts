/**
 * ConsciousnessState: the cell's shared state (knowledge graph per namespace,
 * messages, every cell's context) in SQLite. All writes go through `write()`,
 * which runs them in one transaction stamped with this cell's clock, so
 * concurrent requests are serialised and none is lost.
 */
import { DurableObject } from "cloudflare:workers";
import type { Entity, Graph, GraphRequest, Outcome, Relation } from "../lib/graph-types";
import { Hlc, decodeHlc, encodeHlc } from "../lib/hlc";
import { MOMENTUM_WINDOW_SECONDS } from "../lib/consciousness";
import { migrate, one, all } from "../lib/sql";
import type { ContextInput, ContextRow, LevelReport, MessageInput, MessageRow } from "../lib/state-types";
import { vars } from "../lib/vars";
import { GraphStore, type Stamp, type Stamper } from "./consciousness/graph";
import { RecordStore } from "./consciousness/records";
import { MIGRATIONS } from "./consciousness/schema";

export interface StateStats {
  recent_writes: number;
  last_write: string | null;
  entities: number;
  observations: number;
  relations: number;
  messages: number;
  reported_levels: { reporter: string; level: number; source: string; reported_at: string }[];
}

export class ConsciousnessState extends DurableObject {
  private readonly sql: SqlStorage;
  private readonly graph: GraphStore;
  private readonly records: RecordStore;
  private readonly cellId: string;
  private hlc = new Hlc();
  private oseq = 0;

  constructor(ctx: DurableObjectState, env: object) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.graph = new GraphStore(this.sql);
    this.records = new RecordStore(this.sql);
    this.cellId = vars(env).AIOS_CELL_ID;
    void ctx.blockConcurrencyWhile(async () => {
      migrate(this.sql, MIGRATIONS);
      const meta = new Map(
        all<{ key: string; value: string }>(this.sql, "SELECT key, value FROM meta").map((r) => [r.key, r.value]),
      );
      this.hlc = new Hlc(decodeHlc(meta.get("hlc") ?? "") ?? { wall: 0, counter: 0 });
      this.oseq = Number(meta.get("oseq") ?? "0");
    });
  }

  /** Runs `fn` in one transaction; each row change it makes gets its own stamp. */
  private write<T>(fn: (stamp: Stamper, now: Date) => T): T {
    return this.ctx.storage.transactionSync(() => {
      const hlc = this.hlc.tick();
      const before = this.oseq;
      const stamp: Stamper = (): Stamp => ({ hlc, origin: this.cellId, oseq: ++this.oseq });
      try {
        const result = fn(stamp, new Date());
        const changes = this.oseq - before;
        if (changes > 0) {
          this.sql.exec(
            "INSERT INTO meta (key, value) VALUES ('oseq', ?), ('hlc', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            String(this.oseq),
            encodeHlc(this.hlc.last),
          );
          this.noteActivity(changes);
        }
        return result;
      } catch (e) {
        this.oseq = before;
        throw e;
      }
    });
  }

  private noteActivity(writes: number): void {
    const minute = Math.floor(Date.now() / 60000);
    this.sql.exec(
      "INSERT INTO activity (minute, writes) VALUES (?, ?) ON CONFLICT (minute) DO UPDATE SET writes = writes + excluded.writes",
      minute,
      writes,
    );
    this.sql.exec("DELETE FROM activity WHERE minute < ?", minute - 24 * 60);
  }

  /** Rolls back the whole transaction when the outcome is a refusal, so a refused request changes nothing. */
  private writeOutcome<T>(fn: (stamp: Stamper) => Outcome<T>): Outcome<T> {
    try {
      return this.write((stamp) => {
        const outcome = fn(stamp);
        if (!outcome.ok) throw new Refusal(outcome);
        return outcome;
      });
    } catch (e) {
      if (e instanceof Refusal) return e.outcome as Outcome<T>;
      throw e;
    }
  }

  createEntities(req: GraphRequest<"create_entities">): Outcome<Entity[]> {
    return this.writeOutcome((s) => this.graph.createEntities(req, s));
  }
  createRelations(req: GraphRequest<"create_relations">): Outcome<Relation[]> {
    return this.writeOutcome((s) => this.graph.createRelations(req, s));
  }
  addObservations(req: GraphRequest<"add_observations">): Outcome<{ entityName: string; addedObservations: string[] }[]> {
    return this.writeOutcome((s) => this.graph.addObservations(req, s));
  }
  deleteEntities(req: GraphRequest<"delete_entities">): Outcome<{ deleted: string[] }> {
    return this.writeOutcome((s) => this.graph.deleteEntities(req, s));
  }
  deleteObservations(req: GraphRequest<"delete_observations">): Outcome<{ removed: number }> {
    return this.writeOutcome((s) => this.graph.deleteObservations(req, s));
  }
  deleteRelations(req: GraphRequest<"delete_relations">): Outcome<{ removed: number }> {
    return this.writeOutcome((s) => this.graph.deleteRelations(req, s));
  }
  readGraph(req: GraphRequest<"read_graph">): Graph {
    return this.graph.readGraph(req.namespace);
  }
  searchNodes(req: GraphRequest<"search_nodes">): Graph & { ranked: { name: string; score: number }[] } {
    return this.graph.searchNodes(req);
  }
  openNodes(req: GraphRequest<"open_nodes">): Graph {
    return this.graph.openNodes(req);
  }
  namespaces(): string[] {
    return this.graph.namespaces();
  }

  postMessage(input: MessageInput): MessageRow {
    return this.write((stamp, now) => this.records.addMessage(input, this.cellId, stamp(), now));
  }
  listMessages(limit: number, fromCell?: string): { messages: MessageRow[]; total: number } {
    return this.records.listMessages(limit, fromCell);
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

  stats(): StateStats {
    const since = Math.floor(Date.now() / 60000) - Math.ceil(MOMENTUM_WINDOW_SECONDS / 60) + 1;
    const recent = one<{ n: number | null }>(this.sql, "SELECT sum(writes) AS n FROM activity WHERE minute >= ?", since)!.n ?? 0;
    const last = decodeHlc(one<{ value: string }>(this.sql, "SELECT value FROM meta WHERE key = 'hlc'")?.value ?? "");
    return {
      recent_writes: recent,
      last_write: last && last.wall > 0 ? new Date(last.wall).toISOString() : null,
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
