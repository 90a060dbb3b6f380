import type { PeerRegistry } from "../../durable-objects/peer-registry";
import { createApp, type BaseEnv } from "../../lib/app";
import { json } from "../../lib/http";
import { tryRpc, type CellBinding, type MetricsBinding } from "../../lib/rpc";
import { vars } from "../../lib/vars";

export interface DiscoveryEnv extends BaseEnv {
  PEERS: DurableObjectNamespace<PeerRegistry>;
  CELL?: CellBinding;
  METRICS?: MetricsBinding;
}

export function registry(env: DiscoveryEnv): DurableObjectStub<PeerRegistry> {
  return env.PEERS.get(env.PEERS.idFromName("peers"));
}

export const discoveryApp = createApp<DiscoveryEnv>("discovery")
  .get("/health", async (_req, env) => {
    const v = vars(env);
    const [summary, cell] = await Promise.all([registry(env).summary(), env.CELL ? tryRpc(() => env.CELL!.info()) : undefined]);
    return json({
      status: cell ? "healthy" : "degraded",
      cell_id: v.AIOS_CELL_ID,
      type: "discovery",
      hostname: v.AIOS_HOSTNAME,
      peers_count: summary.known,
      peers: summary,
      consciousness_level: cell?.consciousness_level ?? null,
      services: ["registry"],
    });
  })
  .get("/peers", async (request, env) => {
    const peers = await registry(env).list();
    return json({ peers, count: peers.length, my_host: new URL(request.url).hostname });
  });
