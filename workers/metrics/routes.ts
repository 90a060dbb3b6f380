import { createApp, type BaseEnv } from "../../lib/app";
import { Exposition } from "../../lib/prom";
import { tryRpc, type CellBinding, type DiscoveryBinding } from "../../lib/rpc";
import { vars, uptimeSeconds } from "../../lib/vars";
import { VERSION } from "../../lib/version";
import type { MetricsStore } from "../../durable-objects/metrics-store";

export interface MetricsEnv extends BaseEnv {
  STORE: DurableObjectNamespace<MetricsStore>;
  CELL?: CellBinding;
  DISCOVERY?: DiscoveryBinding;
}

/** One MetricsStore per cell holds every counter of the stack. */
export function store(env: MetricsEnv): DurableObjectStub<MetricsStore> {
  return env.STORE.get(env.STORE.idFromName("cell"));
}

const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export const metricsApp = createApp<MetricsEnv>("metrics", (env) => store(env))
  .get("/health", () => new Response("OK\n", { headers: { "content-type": "text/plain; charset=utf-8" } }))
  .get("/metrics", async (_req, env) => {
    const v = vars(env);
    const cell = { cell_id: v.AIOS_CELL_ID };
    const [info, peers, stored] = await Promise.all([
      env.CELL ? tryRpc(() => env.CELL!.info()) : undefined,
      env.DISCOVERY ? tryRpc(() => env.DISCOVERY!.summary()) : undefined,
      store(env).exposition(),
    ]);
    const e = new Exposition()
      .gauge("aios_build_info", "Build information; always 1.", { version: VERSION, cell_id: v.AIOS_CELL_ID }, 1)
      .gauge("aios_uptime_seconds", "Seconds since the runtime started.", cell, uptimeSeconds(v))
      .gauge("aios_cell_up", "1 when the cell worker answered this scrape, else 0.", cell, info ? 1 : 0)
      .gauge("aios_discovery_up", "1 when the discovery worker answered this scrape, else 0.", cell, peers ? 1 : 0);
    if (info) e.gauge("aios_consciousness_level", "Consciousness level in [0, 1].", cell, info.consciousness_level);
    if (peers) {
      for (const status of ["alive", "suspect", "dead"] as const) {
        e.gauge("aios_peers", "Known peers by status.", { ...cell, status }, peers[status]);
      }
    }
    return new Response(e.text() + stored, { headers: { "content-type": CONTENT_TYPE } });
  });
