import { createApp, type BaseEnv } from "../../lib/app";
import type { MetricsVars } from "../../lib/env.generated";
import { Exposition } from "../../lib/prom";
import { tryRpc, type CellBinding, type DiscoveryBinding } from "../../lib/rpc";
import { renderGauges } from "./gauges";
import { vars, uptimeSeconds } from "../../lib/vars";
import { VERSION } from "../../lib/version";
import type { MetricsStore } from "../../durable-objects/metrics-store";

export interface MetricsEnv extends BaseEnv, MetricsVars {
  STORE: DurableObjectNamespace<MetricsStore>;
  CELL?: CellBinding;
  DISCOVERY?: DiscoveryBinding;
}

/** One MetricsStore per cell holds every counter of the stack. */
export function store(env: MetricsEnv): DurableObjectStub<MetricsStore> {
  return env.STORE.get(env.STORE.idFromName("cell"));
}

let bootCounted = false;
/** The first request of a boot records it in the store, so restarts after crashes are counted durably. */
async function countBoot(_req: unknown, env: MetricsEnv): Promise<void> {
  if (bootCounted) return;
  const v = vars(env);
  if (v.AIOS_BOOT_ID) await store(env).noteBoot(v.AIOS_BOOT_ID, v.AIOS_BOOT_REASON ?? "start", v.AIOS_CELL_ID);
  bootCounted = true;
}

const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
/** Longer than the cell's own wait for discovery (1.5 s), so a slow discovery does not read as a dead cell. */
const CELL_TIMEOUT_MS = 2500;

export const metricsApp = createApp<MetricsEnv>("metrics", { sink: (env) => store(env) })
  .before(countBoot)
  .get("/health", "public", () => new Response("OK\n", { headers: { "content-type": "text/plain; charset=utf-8" } }))
  .get("/metrics", "public", async (_req, env) => {
    const v = vars(env);
    const cell = { cell_id: v.AIOS_CELL_ID };
    // Two calls in parallel, whatever the number of peers: the cell's gauges (with discovery's
    // peers, which the cell reads for the level anyway) and the stored counters.
    const [snapshot, stored] = await Promise.all([
      env.CELL ? tryRpc(() => env.CELL!.metricsSnapshot(), CELL_TIMEOUT_MS) : undefined,
      store(env).exposition(),
    ]);
    // Without the cell, ask discovery itself, so peer series and aios_discovery_up stay true.
    const peers = snapshot
      ? (snapshot.peers ?? undefined)
      : env.DISCOVERY
        ? await tryRpc(() => env.DISCOVERY!.peers())
        : undefined;
    const e = new Exposition()
      .gauge("aios_build_info", "Version of the running stack (label version); always 1.", { version: VERSION, ...cell }, 1)
      .gauge("aios_uptime_seconds", "Seconds since the runtime started.", cell, uptimeSeconds(v))
      .gauge("aios_cell_up", "1 when the cell worker answered this scrape, else 0.", cell, snapshot ? 1 : 0)
      .gauge("aios_discovery_up", "1 when the discovery worker answered this scrape, else 0.", cell, peers ? 1 : 0);
    renderGauges(e, v.AIOS_CELL_ID, snapshot, peers);
    return new Response(e.text() + stored, { headers: { "content-type": CONTENT_TYPE } });
  });
