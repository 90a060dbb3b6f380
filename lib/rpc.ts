/**
 * The typed RPC surface between the workers (service bindings). Workers
 * implement these; callers only see the interfaces, never each other's code.
 */
import type { CodeAssistInput } from "./code-assist";
import { HttpError } from "./errors";
import type { GraphOp, GraphRequest } from "./graph-types";
import type { MessageRecallAnswer, MessageRecallRequest } from "./message-recall-types";
import type { RecallAnswer, RecallRequest } from "./recall-types";
import type { CounterDelta, MetricsSink } from "./metrics-buffer";
import type { CellContext, ContextInput, LevelReport, MessageInput, MessageQuery } from "./state-types";

/** What a cell offers, as /health, /discover and discovery's hello list it. */
export const CELL_SERVICES = [
  "consciousness",
  "knowledge-graph",
  "messages",
  "context",
  "code-assist",
  "sync",
  "dashboard",
  "mcp",
];

export type PeerStatus = "alive" | "suspect" | "dead";

/** A peer as discovery lists it (DESIGN.md section 4). */
export interface Peer {
  cell_id: string;
  ip: string;
  port: number;
  url: string;
  status: PeerStatus;
  last_seen: string;
  first_seen: string;
  consciousness_level: number | null;
  services: string[];
  branch: string | null;
  type: string;
  hostname: string | null;
  source: string;
  rtt_ms: number | null;
}

export interface PeerSummary {
  known: number;
  alive: number;
  suspect: number;
  dead: number;
}

export interface CellInfo {
  cell_id: string;
  branch: string;
  hostname: string;
  version: string;
  consciousness_level: number;
}

/** One peer's sync state as the cell's metrics report it. */
export interface PeerSyncMetrics {
  peer_id: string;
  /** Seconds since the last successful sync round; null if never. */
  lag_seconds: number | null;
  in_sync: boolean;
}

/** What the metrics worker renders of one peer. */
export type PeerGauge = Pick<Peer, "cell_id" | "status" | "rtt_ms">;

/** Everything the metrics worker renders from the cell, in one call. */
export interface CellMetrics {
  cell_id: string;
  level: number;
  primitives: { awareness: number; adaptation: number; coherence: number; momentum: number };
  graph: { entities: number; observations: number; relations: number };
  messages: number;
  /** The embedding backlog (recall by meaning); null when the state object did not say. */
  embed?: { pending: number; done: number; rate_per_second: number; model: string | null } | null;
  /** Sync state of every peer this cell has synced with (or tried to). */
  sync: PeerSyncMetrics[];
  /** Discovery's peers (read for the level anyway), only what metrics needs; null when discovery did not answer. */
  peers: PeerGauge[] | null;
}

/**
 * The outcome of a typed call that may be refused: a refusal crosses the RPC boundary as a value
 * carrying the HTTP status the same request would get over REST, and a message for the caller.
 */
export type Answer<T> = { ok: true; value: T } | { ok: false; status: number; error: string };

/** Runs `work`, turning an HttpError (or any failure) into a refused Answer. */
export async function answer<T>(work: () => Promise<T>): Promise<Answer<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (e) {
    if (e instanceof HttpError) return { ok: false, status: e.status, error: e.message };
    return { ok: false, status: 500, error: `internal error: ${e instanceof Error ? e.message : String(e)}` };
  }
}

export type JsonObject = Record<string, unknown>;

/** Every cell's live editing context, this cell's first. */
export interface ContextsView {
  cell_id: string;
  context: CellContext | null;
  contexts: CellContext[];
}

/**
 * What the cell offers the other workers of its stack. Arguments arrive validated (the caller
 * parsed them with the shared schemas where they entered the stack); only this stack's workers
 * hold the binding, so these calls need no token.
 */
export interface CellRpc {
  /** Identity and the current consciousness level, for discovery, bridge and metrics. */
  info(): Promise<CellInfo>;
  /** The cell's gauges for a metrics scrape (level, primitives, graph sizes, per-peer sync state) and discovery's peers. */
  metricsSnapshot(): Promise<CellMetrics>;
  /** One of the nine memory operations; the answer is the JSON text REST gives for it. */
  graph<K extends GraphOp>(op: K, args: GraphRequest<K>, trace?: string): Promise<Answer<string>>;
  /** Recall by meaning and words (POST /memory/recall). */
  recall(request: RecallRequest, trace?: string): Promise<Answer<RecallAnswer>>;
  /** The namespaces that hold memories. */
  namespaces(): Promise<Answer<string[]>>;
  contexts(trace?: string): Promise<Answer<ContextsView>>;
  setContext(input: ContextInput, trace?: string): Promise<Answer<CellContext>>;
  /** The legacy level report (POST /sync-consciousness). */
  reportLevel(report: LevelReport, trace?: string): Promise<Answer<JsonObject>>;
  codeAssist(input: CodeAssistInput, trace?: string): Promise<Answer<JsonObject>>;
  sendMessage(input: MessageInput): Promise<Answer<JsonObject>>;
  messages(query: MessageQuery): Promise<Answer<JsonObject>>;
  /** Messages found by meaning (POST /messages/recall). */
  recallMessages(request: MessageRecallRequest, trace?: string): Promise<Answer<MessageRecallAnswer>>;
  /** The level with its primitives and measured inputs (GET /consciousness). */
  consciousness(): Promise<Answer<JsonObject>>;
  /** Discovery's peers with this cell's sync state per peer (GET /peers). */
  peers(): Promise<Answer<JsonObject>>;
}

export interface DiscoveryRpc {
  summary(): Promise<PeerSummary>;
  peers(): Promise<Peer[]>;
}

export type CellBinding = Fetcher & CellRpc;
export type DiscoveryBinding = Fetcher & DiscoveryRpc;
export type MetricsBinding = Fetcher & MetricsSink & { add(deltas: CounterDelta[]): Promise<void> };

/** Runs an RPC call, answering `undefined` when the other worker is down or slow. */
export async function tryRpc<T>(call: () => Promise<T>, timeoutMs = 1500): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      call(),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timeoutMs);
      }),
    ]);
  } catch {
    return undefined;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
