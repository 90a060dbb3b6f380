/** The cell's public, figures-only endpoints: health, self-description, consciousness, peers. */
import type { AppRequest } from "../../lib/app";
import { json, jsonBody } from "../../lib/http";
import { CELL_SERVICES, tryRpc, type CellInfo, type CellMetrics } from "../../lib/rpc";
import { uptimeSeconds, vars, type WorkerVars } from "../../lib/vars";
import { VERSION } from "../../lib/version";
import { FORMULA, measure, measureAll, type LevelReport } from "./consciousness";
import { state, type CellEnv } from "./env";

export async function cellInfo(env: CellEnv): Promise<CellInfo> {
  const v = vars(env);
  const { level } = await measure(env);
  return {
    cell_id: v.AIOS_CELL_ID,
    branch: v.AIOS_BRANCH,
    hostname: v.AIOS_HOSTNAME,
    version: VERSION,
    consciousness_level: level,
  };
}

/**
 * The cell's gauges for a metrics scrape, with discovery's peer list, so a scrape costs the
 * metrics worker one call here.
 */
export async function cellMetrics(env: CellEnv): Promise<CellMetrics> {
  const [{ level, primitives, stats, list }, embed] = await Promise.all([
    measureAll(env),
    tryRpc(() => state(env).embedStatus()),
  ]);
  return {
    cell_id: vars(env).AIOS_CELL_ID,
    level,
    primitives,
    graph: { entities: stats.entities, observations: stats.observations, relations: stats.relations },
    messages: stats.messages,
    embed: embed
      ? { pending: embed.pending, done: embed.done, rate_per_second: embed.rate_per_second, model: embed.model }
      : null,
    sync: stats.sync.map((s) => ({ peer_id: s.peer_id, lag_seconds: s.lag_seconds, in_sync: s.in_sync })),
    peers: list ? list.map((p) => ({ cell_id: p.cell_id, status: p.status, rtt_ms: p.rtt_ms })) : null,
  };
}

/**
 * /health measures the level at most once a second per isolate: measuring takes three RPCs (the
 * state object, discovery and its registry), about three quarters of what /health costs, while
 * the peer states it reads change once per discovery tick (1 s) and the write count it reads spans
 * minutes. /consciousness and the level other workers read (info()) are measured on every call.
 */
const HEALTH_TTL_MS = 1000;
let lastHealth: { at: number; report: LevelReport | undefined } | undefined;
/**
 * The body last answered, reused while the report and the uptime second are the same ones: a typed
 * Blob (lib/http.ts jsonBody), so the answer gets its content-type without a header.
 */
let lastBody: { vars: WorkerVars; report: LevelReport | undefined; uptime: number; body: Blob } | undefined;

async function measureHealth(env: CellEnv, now: number): Promise<LevelReport | undefined> {
  const report = await tryRpc(() => measure(env), 3000);
  lastHealth = { at: now, report };
  return report;
}

export async function health(_req: AppRequest, env: CellEnv): Promise<Response> {
  const v = vars(env);
  const now = Date.now();
  const report = lastHealth && now - lastHealth.at < HEALTH_TTL_MS ? lastHealth.report : await measureHealth(env, now);
  const uptime = uptimeSeconds(v, now);
  if (lastBody?.vars !== v || lastBody.report !== report || lastBody.uptime !== uptime) {
    const healthy = report !== undefined && report.peers !== undefined;
    const text = JSON.stringify({
      status: healthy ? "healthy" : "degraded",
      cell_id: v.AIOS_CELL_ID,
      branch: v.AIOS_BRANCH,
      type: "cell",
      hostname: v.AIOS_HOSTNAME,
      version: VERSION,
      uptime_seconds: uptime,
      consciousness_level: report?.level ?? null,
      services: CELL_SERVICES,
      peers: { known: report?.peers?.known ?? 0, alive: report?.peers?.alive ?? 0 },
      checks: { state: report !== undefined, discovery: report?.peers !== undefined },
    });
    lastBody = { vars: v, report, uptime, body: jsonBody(text) };
  }
  return new Response(lastBody.body);
}

export function discover(request: AppRequest, env: CellEnv): Response {
  const v = vars(env);
  const base = new URL(request.url).origin;
  return json({
    cell_id: v.AIOS_CELL_ID,
    type: "cell",
    hostname: v.AIOS_HOSTNAME,
    branch: v.AIOS_BRANCH,
    version: VERSION,
    services: CELL_SERVICES,
    ports: { cell: v.AIOS_CELL_PORT, discovery: v.DISCOVERY_PORT, bridge: v.BRIDGE_PORT, metrics: v.AIOS_METRICS_PORT },
    endpoints: {
      health: `${base}/health`,
      discover: `${base}/discover`,
      consciousness: `${base}/consciousness`,
      primitives: `${base}/consciousness/primitives`,
      sync_consciousness: `${base}/sync-consciousness`,
      peers: `${base}/peers`,
      messages: `${base}/messages`,
      message: `${base}/message`,
      context: `${base}/context`,
      memory: `${base}/memory/{operation}`,
    },
  });
}

export async function consciousness(_req: AppRequest, env: CellEnv): Promise<Response> {
  return json(await consciousnessReport(env));
}

/** The level, its primitives and every measured input behind them. */
export async function consciousnessReport(env: CellEnv) {
  const v = vars(env);
  const r = await measureAll(env);
  return {
    cell_id: v.AIOS_CELL_ID,
    level: r.level,
    primitives: r.primitives,
    inputs: {
      peers_known: r.inputs.peers_known,
      peers_alive: r.inputs.peers_alive,
      peers_source: r.inputs.peers_source,
      peers_in_sync: r.inputs.sync.filter((s) => s.in_sync).length,
      sync: r.inputs.sync,
      recent_writes: r.inputs.recent_writes,
      last_write: r.stats.last_write,
      graph: { entities: r.stats.entities, observations: r.stats.observations, relations: r.stats.relations },
      messages: r.stats.messages,
    },
    reported_levels: r.stats.reported_levels,
    formula: FORMULA,
    sync: r.stats.sync,
    last_sync: r.stats.last_sync,
    timestamp: new Date().toISOString(),
  };
}

export async function primitives(_req: AppRequest, env: CellEnv): Promise<Response> {
  const v = vars(env);
  const r = await measure(env);
  return json({
    cell_id: v.AIOS_CELL_ID,
    primitives: r.primitives,
    consciousness_level: r.level,
    timestamp: new Date().toISOString(),
  });
}

export async function peers(_req: AppRequest, env: CellEnv): Promise<Response> {
  const view = await peersView(env);
  return view ? json(view) : json({ error: "discovery does not answer", peers: [], count: 0 }, 503);
}

/** Discovery's view of the peers, with this cell's sync state per peer; undefined when discovery does not answer. */
export async function peersView(env: CellEnv) {
  const [list, sync] = await Promise.all([
    env.DISCOVERY ? tryRpc(() => env.DISCOVERY!.peers()) : undefined,
    state(env).syncPeers(),
  ]);
  if (!list) return undefined;
  const syncOf = new Map(sync.map((s) => [s.peer_id, s]));
  const peers = list.map((p) => {
    const s = syncOf.get(p.cell_id);
    return {
      ...p,
      sync: s
        ? {
            last_success: s.last_success,
            lag_seconds: s.lag_seconds,
            in_sync: s.in_sync,
            rows_sent: s.rows_sent,
            rows_received: s.rows_received,
            last_error: s.last_error,
          }
        : null,
    };
  });
  return { cell_id: vars(env).AIOS_CELL_ID, peers, count: peers.length };
}
