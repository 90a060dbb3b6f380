/** Discovery worker (:8001): finds, admits and health-checks peer cells. */
import { WorkerEntrypoint } from "cloudflare:workers";
import type { DiscoveryRpc, Peer, PeerSummary } from "../../lib/rpc";
import { discoveryApp, registry, type DiscoveryEnv } from "./routes";

export { CellIdentity } from "../../durable-objects/cell-identity";
export { PeerRegistry } from "../../durable-objects/peer-registry";

export default class Discovery extends WorkerEntrypoint<DiscoveryEnv> implements DiscoveryRpc {
  override fetch(request: Request): Promise<Response> {
    return discoveryApp.fetch(request, this.env, this.ctx);
  }

  summary(): Promise<PeerSummary> {
    return registry(this.env).summary();
  }

  peers(): Promise<Peer[]> {
    return registry(this.env).list();
  }
}
