/**
 * The relay's route table: `/health` (figures only) for anyone; `/relay/*` only for cells admitted by
 * the relay key. Who may call what is said here, as in every worker; the verification of a `peer`
 * route happens in the relay's object (where the pinned keys and seen nonces live), in the same call
 * that serves the request: Cloudflare bills each call to an object, so a request costs one. The
 * worker first refuses what it can alone (unsigned, without a cell id, signed for another target,
 * declared too large, or no relay key configured), so such requests never wake (nor bill) the object.
 */
import type { RelayEnv, RelayOp, RelayReplica } from "../../durable-objects/relay-replica";
import { CELL_HEADER, TARGET_HEADER } from "../../durable-objects/identity/signing";
import { createApp, type AppRequest, type BaseEnv } from "../../lib/app";
import { HttpError } from "../../lib/errors";
import { json } from "../../lib/http";
import { RELAY_BODY_LIMIT, RELAY_TARGET } from "../../lib/relay-protocol";
import { VERSION } from "../../lib/version";

export interface RelayWorkerEnv extends RelayEnv, BaseEnv {
  RELAY: DurableObjectNamespace<RelayReplica>;
}

const replica = (env: RelayWorkerEnv) => env.RELAY.get(env.RELAY.idFromName("relay"));

/** The worker's part of `peer` access (the shell has checked the request is signed); the object verifies the rest. */
function signedForTheRelay(request: Request, env: RelayWorkerEnv): void {
  if (!env.AIOS_RELAY_KEY) throw new HttpError(503, "this relay has no AIOS_RELAY_KEY; it admits nobody");
  if (!request.headers.get(CELL_HEADER)) throw new HttpError(401, `a signed request must name its cell in ${CELL_HEADER}`);
  if (request.headers.get(TARGET_HEADER) !== RELAY_TARGET) {
    throw new HttpError(401, `a request to the relay is signed for ${TARGET_HEADER}: ${RELAY_TARGET}`);
  }
  if (Number(request.headers.get("content-length") ?? 0) > RELAY_BODY_LIMIT) {
    throw new HttpError(413, `body over ${RELAY_BODY_LIMIT} bytes`);
  }
}

async function health(_req: AppRequest, env: RelayWorkerEnv): Promise<Response> {
  const figures = await replica(env).figures();
  return json({ status: env.AIOS_RELAY_KEY ? "healthy" : "degraded", type: "relay", version: VERSION, ...figures });
}

/** A `peer` route's handler: one call to the object, which verifies the request and then serves `op`. */
const served =
  (op: RelayOp) =>
  (request: AppRequest, env: RelayWorkerEnv): Promise<Response> =>
    replica(env).serve(request, op);

/** The news channel lives in the object (it hibernates there); its fetch verifies, then upgrades. */
function news(request: AppRequest, env: RelayWorkerEnv): Promise<Response> {
  return replica(env).fetch(request);
}

export const relayApp = createApp<RelayWorkerEnv>("relay", { guards: { peerVerifiedByHandler: signedForTheRelay } })
  .get("/health", "public", health)
  .post("/relay/pull", "peer", served("pull"))
  .post("/relay/push", "peer", served("push"))
  .get("/relay/ws", "peer", news);
