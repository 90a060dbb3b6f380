import { createApp, type AppRequest, type BaseEnv } from "../../lib/app";
import { unavailable } from "../../lib/errors";
import { json } from "../../lib/http";
import { tryRpc, type CellBinding, type DiscoveryBinding, type MetricsBinding } from "../../lib/rpc";
import { vars } from "../../lib/vars";
import { checkOrigin } from "./guard";

export interface BridgeEnv extends BaseEnv {
  CELL?: CellBinding;
  DISCOVERY?: DiscoveryBinding;
  METRICS?: MetricsBinding;
}

async function health(_req: AppRequest, env: BridgeEnv): Promise<Response> {
  const [cell, peers] = await Promise.all([
    env.CELL ? tryRpc(() => env.CELL!.info()) : undefined,
    env.DISCOVERY ? tryRpc(() => env.DISCOVERY!.summary()) : undefined,
  ]);
  const up = (x: unknown) => (x ? "up" : "down");
  return json({
    status: cell && peers ? "healthy" : "degraded",
    cell_id: vars(env).AIOS_CELL_ID,
    services: { cell: up(cell), discovery: up(peers), bridge: "up" },
    cell_info: cell ? { cell_id: cell.cell_id, branch: cell.branch, consciousness_level: cell.consciousness_level } : null,
  });
}

async function networkPeers(_req: AppRequest, env: BridgeEnv): Promise<Response> {
  const peers = env.DISCOVERY ? await tryRpc(() => env.DISCOVERY!.peers()) : undefined;
  if (!peers) throw unavailable("discovery does not answer");
  return json({ peers, count: peers.length });
}

export const bridgeApp = createApp<BridgeEnv>("bridge")
  .before(checkOrigin)
  .get("/health", health)
  .get("/network-peers", networkPeers);
