/**
 * Relay worker: `/health` (figures only) for anyone; everything else goes to
 * the relay's one object, which serves only cells admitted by the relay key.
 */
import type { RelayEnv, RelayReplica } from "../../durable-objects/relay-replica";
import { errorResponse, HttpError } from "../../lib/errors";
import { json } from "../../lib/http";
import { VERSION } from "../../lib/version";

export { RelayReplica } from "../../durable-objects/relay-replica";

interface Env extends RelayEnv {
  RELAY: DurableObjectNamespace<RelayReplica>;
}

const replica = (env: Env) => env.RELAY.get(env.RELAY.idFromName("relay"));

export default {
  async fetch(request, env) {
    try {
      const { pathname } = new URL(request.url);
      if (pathname === "/health") {
        if (request.method !== "GET" && request.method !== "HEAD") throw new HttpError(405, "use GET /health");
        const figures = await replica(env).figures();
        return json({ status: env.AIOS_RELAY_KEY ? "healthy" : "degraded", type: "relay", version: VERSION, ...figures });
      }
      if (pathname.startsWith("/relay/")) return await replica(env).fetch(request);
      throw new HttpError(404, "not found; a relay serves /health and, to admitted cells, /relay/*");
    } catch (e) {
      return errorResponse(e);
    }
  },
} satisfies ExportedHandler<Env>;
