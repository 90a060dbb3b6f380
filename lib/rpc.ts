/**
 * The typed RPC surface between the workers (service bindings). Workers
 * implement these; callers only see the interfaces, never each other's code.
 */
import type { CounterDelta, MetricsSink } from "./metrics-buffer";

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

export interface CellRpc {
  /** Identity and the current consciousness level, for discovery, bridge and metrics. */
  info(): Promise<CellInfo>;
  /** The cell's gauges for a metrics scrape (level, primitives, graph sizes, per-peer sync state) and discovery's peers. */
  metricsSnapshot(): Promise<CellMetrics>;
  /** Handles a request as the trusted local caller (the bridge): no token needed. */
  trustedFetch(request: Request): Promise<Response>;
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
