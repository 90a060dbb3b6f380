/** Discovery worker (:8001): finds, admits and health-checks peer cells. */
import { WorkerEntrypoint } from "cloudflare:workers";
import type { DiscoveryRpc, Peer, PeerSummary } from "../../lib/rpc";
import { discoveryApp, registry, type DiscoveryEnv } from "./routes";

export { CellIdentity } from "../../durable-objects/cell-identity";
export { PeerRegistry } from "../../durable-objects/peer-registry";

/** Requests from the socket: a plain handler (see workers/cell/index.ts). */
export default {
  fetch: (request, env, ctx) => discoveryApp.fetch(request, env, ctx),
} satisfies ExportedHandler<DiscoveryEnv>;

/** What the other workers call over their service binding (`entrypoint = "DiscoveryEntrypoint"`). */
export class DiscoveryEntrypoint extends WorkerEntrypoint<DiscoveryEnv> implements DiscoveryRpc {
  summary(): Promise<PeerSummary> {
    return registry(this.env).summary();
  }

  peers(): Promise<Peer[]> {
    return registry(this.env).list();
  }
}
