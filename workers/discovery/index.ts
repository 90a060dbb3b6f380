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

  async summary(): Promise<PeerSummary> {
    const reg = registry(this.env);
    await reg.ensureRunning();
    return reg.summary();
  }

  peers(): Promise<Peer[]> {
    return registry(this.env).list();
  }
}
