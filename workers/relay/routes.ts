/**
 * The relay's route table: `/health` (figures only) for anyone; `/relay/*` only for cells admitted by
 * the relay key, checked by the relay's object (where the pinned keys and seen nonces live) before
 * any handler runs. An unsigned request is refused by the shell and never wakes the object.
 */
import type { Admission, RelayEnv, RelayReplica } from "../../durable-objects/relay-replica";
import { ADMITTED_HEADER } from "../../durable-objects/relay-replica";
import { createApp, type AppRequest, type BaseEnv, type PeerCall, type RequestContext } from "../../lib/app";
import { HttpError } from "../../lib/errors";
import { json, parseJsonText } from "../../lib/http";
import { RelayPullRequest, RelayPushRequest } from "../../lib/relay-protocol";
import { VERSION } from "../../lib/version";

export interface RelayWorkerEnv extends RelayEnv, BaseEnv {
  RELAY: DurableObjectNamespace<RelayReplica>;
}

const replica = (env: RelayWorkerEnv) => env.RELAY.get(env.RELAY.idFromName("relay"));

async function admitted(request: Request, env: RelayWorkerEnv): Promise<PeerCall> {
  const a = (await replica(env).admit(request)) as Admission;
  if (!a.ok) throw new HttpError(a.status, a.error);
  return { cell: a.cell, body: a.body };
}

async function health(_req: AppRequest, env: RelayWorkerEnv): Promise<Response> {
  const figures = await replica(env).figures();
  return json({ status: env.AIOS_RELAY_KEY ? "healthy" : "degraded", type: "relay", version: VERSION, ...figures });
}

async function pull(_req: AppRequest, env: RelayWorkerEnv, _ctx: ExecutionContext, rc: RequestContext): Promise<Response> {
  return json(await replica(env).pull(parseJsonText(rc.signed.body, RelayPullRequest)));
}

async function push(_req: AppRequest, env: RelayWorkerEnv, _ctx: ExecutionContext, rc: RequestContext): Promise<Response> {
  return json(await replica(env).push(rc.signed.cell, parseJsonText(rc.signed.body, RelayPushRequest)));
}

/** The news channel lives in the object (it hibernates there); the worker tells it which cell it admitted. */
function news(request: AppRequest, env: RelayWorkerEnv, _ctx: ExecutionContext, rc: RequestContext): Promise<Response> {
  const headers = new Headers(request.headers);
  headers.set(ADMITTED_HEADER, rc.signed.cell);
  return replica(env).fetch(new Request(request.url, { method: "GET", headers }));
}

export const relayApp = createApp<RelayWorkerEnv>("relay", { guards: { peer: admitted } })
  .get("/health", "public", health)
  .post("/relay/pull", "peer", pull)
  .post("/relay/push", "peer", push)
  .get("/relay/ws", "peer", news);
