/**
 * McpSessions: the bridge's MCP sessions and resource subscriptions, in one place every isolate
 * reaches. A client that initializes gets a session id; with it, it may subscribe to the graph's
 * resources and hold a GET stream (server-sent events) on which `notifications/resources/updated`
 * arrives after each change. Calls without a session keep working as before (the transport is
 * stateless); only subscriptions need one. Sessions unseen for a day are forgotten.
 */
import { DurableObject } from "cloudflare:workers";
import { GRAPH_URI } from "../lib/graph-types";
import { all, migrate, one } from "../lib/sql";
import { STATE_OBJECT } from "../lib/state-types";

const MIGRATIONS = [
  `CREATE TABLE sessions (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, seen_at INTEGER NOT NULL)`,
  `CREATE TABLE subscriptions (session TEXT NOT NULL, uri TEXT NOT NULL, PRIMARY KEY (session, uri))`,
];

/** A session nobody used for this long is forgotten with its subscriptions. */
export const SESSION_IDLE_MS = 24 * 60 * 60 * 1000;
/** `seen_at` is written at most this often per session. */
const SEEN_RESOLUTION_MS = 60 * 1000;
const MAX_SUBSCRIPTIONS = 100;

/** What the sessions object asks of the cell's state object (ConsciousnessState): to say when the graph next changes. */
interface GraphWatch extends Rpc.DurableObjectBranded {
  watch(): void;
}

export interface SessionsEnv {
  STATE?: DurableObjectNamespace<GraphWatch>;
}

export type SubscribeResult = { ok: true } | { ok: false; error: string };

export class McpSessions extends DurableObject<SessionsEnv> {
  private readonly sql: SqlStorage;
  /** Open GET streams, by session. */
  private readonly streams = new Map<string, WritableStreamDefaultWriter<Uint8Array>>();
  private readonly seen = new Map<string, number>();

  constructor(ctx: DurableObjectState, env: SessionsEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => {
      migrate(this.sql, MIGRATIONS);
    });
  }

  /** A new session (at initialize); sessions idle for a day go at the same time. */
  open(): string {
    const now = Date.now();
    const stale = all<{ id: string }>(this.sql, "SELECT id FROM sessions WHERE seen_at < ?", now - SESSION_IDLE_MS);
    for (const { id } of stale) this.forget(id);
    const id = crypto.randomUUID();
    this.sql.exec("INSERT INTO sessions (id, created_at, seen_at) VALUES (?, ?, ?)", id, now, now);
    this.seen.set(id, now);
    return id;
  }

  /** Whether the session exists; marks it used. */
  touch(id: string): boolean {
    const now = Date.now();
    if (now - (this.seen.get(id) ?? 0) < SEEN_RESOLUTION_MS) return true;
    const known = one(this.sql, "SELECT 1 AS x FROM sessions WHERE id = ?", id) !== undefined;
    if (known) {
      this.sql.exec("UPDATE sessions SET seen_at = ? WHERE id = ?", now, id);
      this.seen.set(id, now);
    }
    return known;
  }

  /** Ends a session (DELETE /mcp); false when it did not exist. */
  end(id: string): boolean {
    const known = one(this.sql, "SELECT 1 AS x FROM sessions WHERE id = ?", id) !== undefined;
    if (known) this.forget(id);
    return known;
  }

  async subscribe(id: string, uri: string): Promise<SubscribeResult> {
    if (!this.touch(id)) return { ok: false, error: "unknown session; initialize again" };
    const n = one<{ n: number }>(this.sql, "SELECT count(*) AS n FROM subscriptions WHERE session = ?", id)!.n;
    if (n >= MAX_SUBSCRIPTIONS) return { ok: false, error: `at most ${MAX_SUBSCRIPTIONS} subscriptions per session` };
    this.sql.exec("INSERT OR IGNORE INTO subscriptions (session, uri) VALUES (?, ?)", id, uri);
    if (this.streams.has(id)) await this.watchState();
    return { ok: true };
  }

  unsubscribe(id: string, uri: string): void {
    this.sql.exec("DELETE FROM subscriptions WHERE session = ? AND uri = ?", id, uri);
  }

  /** The session's GET stream of server-sent events (the request carries `mcp-session-id`). */
  override async fetch(request: Request): Promise<Response> {
    const id = request.headers.get("mcp-session-id") ?? "";
    if (!this.touch(id)) return rpcError(404, "unknown session; initialize again");
    if (this.streams.has(id)) return rpcError(409, "this session already has an open stream");
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    this.streams.set(id, writer);
    void writer.closed.then(
      () => this.dropStream(id, writer),
      () => this.dropStream(id, writer),
    );
    request.signal.addEventListener("abort", () => this.dropStream(id, writer));
    // A comment line first, so the client sees the stream open at once.
    void writer.write(new TextEncoder().encode(": stream open\n\n")).catch(() => this.dropStream(id, writer));
    if (this.subscribed(id).length > 0) await this.watchState();
    return new Response(readable, {
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache", "mcp-session-id": id },
    });
  }

  /**
   * The graphs of these namespaces changed: every open stream hears about each of their resources it
   * subscribed to. Answers whether any stream listens, so the state object can stop calling while
   * nobody does.
   */
  async changed(namespaces: string[]): Promise<boolean> {
    if (this.streams.size === 0) return false;
    const changed = new Set(namespaces.map((ns) => `${GRAPH_URI}/${ns}`));
    if (namespaces.includes("default")) changed.add(GRAPH_URI);
    let listening = false;
    for (const [id, writer] of this.streams) {
      const uris = this.subscribed(id);
      if (uris.length > 0) listening = true;
      for (const uri of uris) {
        if (!changed.has(uri)) continue;
        const note = { jsonrpc: "2.0", method: "notifications/resources/updated", params: { uri } };
        await writer.write(new TextEncoder().encode(`event: message\ndata: ${JSON.stringify(note)}\n\n`)).catch(() => {
          this.dropStream(id, writer);
        });
      }
    }
    return listening;
  }

  private subscribed(id: string): string[] {
    return all<{ uri: string }>(this.sql, "SELECT uri FROM subscriptions WHERE session = ? ORDER BY uri", id).map((r) => r.uri);
  }

  /** Tells the state object that someone listens (it stops calling `changed` while nobody does). */
  private async watchState(): Promise<void> {
    const ns = this.env.STATE;
    if (ns) await ns.get(ns.idFromName(STATE_OBJECT)).watch();
  }

  private dropStream(id: string, writer: WritableStreamDefaultWriter<Uint8Array>): void {
    if (this.streams.get(id) !== writer) return;
    this.streams.delete(id);
    void writer.close().catch(() => undefined);
  }

  private forget(id: string): void {
    this.sql.exec("DELETE FROM subscriptions WHERE session = ?", id);
    this.sql.exec("DELETE FROM sessions WHERE id = ?", id);
    this.seen.delete(id);
    const writer = this.streams.get(id);
    if (writer) this.dropStream(id, writer);
  }
}

function rpcError(status: number, message: string): Response {
  return new Response(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }), {
    status,
    headers: { "content-type": "application/json" },
  });
}
