/**
 * GET /consciousness/history?minutes=60 (public): the level and its four
 * primitives over the last `minutes` (1-1440), for the dashboard's chart.
 * From Prometheus (AIOS_PROMETHEUS_ADDR) when configured and it has samples
 * of this cell, else from the cell's own history (ConsciousnessState samples
 * the level at most every 10 s and keeps a day). `source` says which.
 */
import type { AppRequest, RequestContext } from "../../../lib/app";
import { badRequest } from "../../../lib/errors";
import { json } from "../../../lib/http";
import { tryRpc } from "../../../lib/rpc";
import { vars } from "../../../lib/vars";
import { measure } from "../consciousness";
import { state, type CellEnv } from "../env";

export const DEFAULT_MINUTES = 60;
export const MAX_MINUTES = 1440;
/** Prometheus points per chart at most (the step grows with the window). */
const MAX_PROM_POINTS = 360;
const PROM_TIMEOUT_MS = 3000;
const PRIMITIVES = ["awareness", "adaptation", "coherence", "momentum"] as const;

export interface HistoryPoint {
  t: string;
  level: number;
  awareness: number | null;
  adaptation: number | null;
  coherence: number | null;
  momentum: number | null;
}

/** `minutes` must be a whole number in 1..1440; absent means 60. */
export function parseMinutes(raw: string | null): number {
  if (raw === null) return DEFAULT_MINUTES;
  const n = /^\s*\d{1,6}\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_MINUTES) {
    throw badRequest(`minutes must be a whole number from 1 to ${MAX_MINUTES}, got "${raw.slice(0, 32)}"`, {
      field: "minutes",
    });
  }
  return n;
}

export async function history(request: AppRequest, env: CellEnv, _ctx: ExecutionContext, rc: RequestContext): Promise<Response> {
  const minutes = parseMinutes(new URL(request.url).searchParams.get("minutes"));
  const v = vars(env);
  const base = { cell_id: v.AIOS_CELL_ID, minutes };
  let prometheusError: string | undefined;
  if (v.AIOS_PROMETHEUS_ADDR) {
    try {
      const points = await fromPrometheus(v.AIOS_PROMETHEUS_ADDR, v.AIOS_CELL_ID, minutes);
      if (points.length > 0) return json({ ...base, source: "prometheus", points, count: points.length });
      prometheusError = "Prometheus has no aios_consciousness_level samples of this cell in that window";
    } catch (e) {
      prometheusError = e instanceof PromError ? e.message : "Prometheus could not be reached";
      rc.log.warn("prometheus history failed; using the cell's own history", { error: prometheusError });
    }
  }
  const current = await tryRpc(() => measure(env), 3000);
  const points = await state(env).levelHistory(minutes, current && { level: current.level, primitives: current.primitives });
  return json({
    ...base,
    source: "local",
    points,
    count: points.length,
    ...(prometheusError ? { prometheus_error: prometheusError } : {}),
  });
}

class PromError extends Error {}

interface PromMatrix {
  status?: string;
  error?: string;
  data?: { resultType?: string; result?: { metric?: Record<string, string>; values?: [number, string][] }[] };
}

/** The two series of this cell from query_range, merged by timestamp. */
export async function fromPrometheus(addr: string, cellId: string, minutes: number, now = Date.now()): Promise<HistoryPoint[]> {
  const end = Math.floor(now / 1000);
  const start = end - minutes * 60;
  const step = Math.max(15, Math.ceil((minutes * 60) / MAX_PROM_POINTS));
  const sel = `{cell_id="${cellId.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"}`;
  const [levels, prims] = await Promise.all([
    queryRange(addr, `aios_consciousness_level${sel}`, start, end, step),
    queryRange(addr, `aios_consciousness_primitive${sel}`, start, end, step),
  ]);
  const byTime = new Map<number, HistoryPoint>();
  for (const series of levels) {
    for (const [ts, raw] of series.values ?? []) {
      const level = Number(raw);
      if (!Number.isFinite(level) || byTime.has(ts)) continue;
      byTime.set(ts, {
        t: new Date(ts * 1000).toISOString(),
        level,
        awareness: null,
        adaptation: null,
        coherence: null,
        momentum: null,
      });
    }
  }
  for (const series of prims) {
    const name = series.metric?.["primitive"];
    if (!(PRIMITIVES as readonly string[]).includes(name ?? "")) continue;
    for (const [ts, raw] of series.values ?? []) {
      const p = byTime.get(ts);
      const value = Number(raw);
      if (p && Number.isFinite(value) && p[name as (typeof PRIMITIVES)[number]] === null)
        p[name as (typeof PRIMITIVES)[number]] = value;
    }
  }
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
}

async function queryRange(addr: string, query: string, start: number, end: number, step: number) {
  let url: URL;
  try {
    url = new URL(addr.replace(/\/+$/, "") + "/api/v1/query_range");
  } catch {
    throw new PromError("AIOS_PROMETHEUS_ADDR is not a valid URL");
  }
  const headers = new Headers({ accept: "application/json" });
  if (url.username || url.password) {
    // Credentials in the address become basic auth (fetch refuses URLs that carry them).
    headers.set("authorization", `Basic ${btoa(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`)}`);
    url.username = "";
    url.password = "";
  }
  url.search = new URLSearchParams({ query, start: String(start), end: String(end), step: String(step) }).toString();
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(PROM_TIMEOUT_MS) });
  } catch (e) {
    throw new PromError(
      (e as Error)?.name === "TimeoutError"
        ? `Prometheus did not answer within ${PROM_TIMEOUT_MS / 1000} s`
        : "Prometheus could not be reached",
    );
  }
  let body: PromMatrix;
  try {
    body = (await res.json()) as PromMatrix;
  } catch {
    throw new PromError(`Prometheus answered ${res.status} with a body that is not JSON`);
  }
  if (!res.ok || body.status !== "success") {
    throw new PromError(`Prometheus answered ${res.status}${body.error ? `: ${String(body.error).slice(0, 200)}` : ""}`);
  }
  if (body.data?.resultType !== "matrix" || !Array.isArray(body.data.result)) {
    throw new PromError("Prometheus answered something other than a range vector");
  }
  return body.data.result;
}
