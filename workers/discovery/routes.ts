import type { CellIdentity } from "../../durable-objects/cell-identity";
import type { PeerRegistry } from "../../durable-objects/peer-registry";
import { createApp, type AppRequest, type BaseEnv, type PeerCall, type RequestContext } from "../../lib/app";
import type { DiscoveryVars } from "../../lib/env.generated";
import { HttpError, notFound } from "../../lib/errors";
import { identityOf, verifyCell, type IdentityStub } from "../../durable-objects/identity/intercell";
import { json, parseJsonText, readJson, readText } from "../../lib/http";
import {
  CellHeartbeatSchema,
  HelloSchema,
  LegacyHeartbeatSchema,
  CandidateSchema,
  RegisterSchema,
  ScanRequestSchema,
} from "../../lib/peer-protocol";
import { tryRpc, type CellBinding, type MetricsBinding } from "../../lib/rpc";
import { vars } from "../../lib/vars";

export interface DiscoveryEnv extends BaseEnv, DiscoveryVars {
  PEERS: DurableObjectNamespace<PeerRegistry>;
  IDENTITY: DurableObjectNamespace<CellIdentity>;
  CELL?: CellBinding;
  METRICS?: MetricsBinding;
}

const PROTOCOL_BODY_LIMIT = 64 * 1024;

export function registry(env: DiscoveryEnv): DurableObjectStub<PeerRegistry> {
  return env.PEERS.get(env.PEERS.idFromName("peers"));
}

export function identity(env: DiscoveryEnv): IdentityStub {
  return identityOf(env.IDENTITY);
}

/** First contact: a signed hello is admitted only with proof of the cluster secret; its key is then pinned. */
async function admit(request: Request, env: DiscoveryEnv): Promise<PeerCall> {
  const text = await readText(request.clone(), PROTOCOL_BODY_LIMIT);
  const hello = parseJsonText(text, HelloSchema);
  const admitted = await identity(env).admit(request, hello.offer, PROTOCOL_BODY_LIMIT);
  if (!admitted.ok) throw new HttpError(admitted.status, `not admitted: ${admitted.reason}`);
  return { cell: admitted.cellId, body: text };
}

async function health(_req: AppRequest, env: DiscoveryEnv): Promise<Response> {
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
    services: ["registry", "health-check", "gossip", "scan", "signed-admission"],
  });
}

async function peers(request: AppRequest, env: DiscoveryEnv): Promise<Response> {
  const list = await registry(env).list();
  return json({ peers: list, count: list.length, my_host: new URL(request.url).hostname });
}

/** An admitted cell says hello: it is registered, and answered with our own offer. */
async function helloRoute(_req: AppRequest, env: DiscoveryEnv, _ctx: ExecutionContext, rc: RequestContext): Promise<Response> {
  const { cell, body } = rc.signed;
  const hello = parseJsonText(body, HelloSchema);
  if (cell !== hello.info.cell_id) throw new HttpError(401, "the signing cell and the described cell differ");
  const reg = registry(env);
  await reg.upsertAlive(hello.info, "register", null);
  await reg.learn(hello.known);
  rc.log.info("peer admitted", { peer: hello.info.cell_id });
  return json(await reg.myHello());
}

async function heartbeatRoute(
  request: AppRequest,
  env: DiscoveryEnv,
  _ctx: ExecutionContext,
  rc: RequestContext,
): Promise<Response> {
  const who = rc.peer;
  if (who) {
    const hb = parseJsonText(who.body, CellHeartbeatSchema);
    if (hb.info.cell_id !== who.cell) throw new HttpError(401, "the signing cell and the described cell differ");
    return json(await registry(env).onHeartbeat(hb));
  }
  const hb = await readJson(request, LegacyHeartbeatSchema, PROTOCOL_BODY_LIMIT);
  if (!(await registry(env).legacyHeartbeat(hb.cell_id, hb.consciousness_level)))
    throw notFound(`unknown cell "${hb.cell_id}"; register it first`);
  return json({ status: "ok", cell_id: hb.cell_id, timestamp: new Date().toISOString() });
}

async function registerRoute(
  request: AppRequest,
  env: DiscoveryEnv,
  _ctx: ExecutionContext,
  rc: RequestContext,
): Promise<Response> {
  const who = rc.peer;
  const reg = who ? parseJsonText(who.body, RegisterSchema) : await readJson(request, RegisterSchema, PROTOCOL_BODY_LIMIT);
  if (who && who.cell !== reg.cell_id) throw new HttpError(403, `cell "${who.cell}" may not register "${reg.cell_id}"`);
  if (reg.cell_id === vars(env).AIOS_CELL_ID) throw new HttpError(400, "cell_id is this cell's own id");
  if (reg.public_key) {
    const pinned = await identity(env).pin(reg.cell_id, reg.public_key, "token");
    if (!pinned.ok) throw new HttpError(409, pinned.reason);
  }
  await registry(env).register(reg);
  return json({ status: "registered", cell_id: reg.cell_id }, 201);
}

async function unregisterRoute(request: AppRequest, env: DiscoveryEnv): Promise<Response> {
  const id = request.params["cell_id"] ?? "";
  if (!(await registry(env).unregister(id))) throw notFound(`unknown cell "${id}"`);
  await identity(env).unpin(id);
  return json({ status: "unregistered", cell_id: id });
}

async function startScan(request: AppRequest, env: DiscoveryEnv): Promise<Response> {
  const text = await readText(request, PROTOCOL_BODY_LIMIT);
  const body = text.trim() ? parseJsonText(text, ScanRequestSchema) : {};
  const started = await registry(env).startScan(body.ranges);
  if (!started.ok) throw new HttpError(started.error.includes("already running") ? 409 : 400, started.error);
  return json({ status: "started", scan: started.state }, 202);
}

/** The launcher hands over cells it found on the LAN (mDNS); they are contacted like scan results. */
async function addCandidate(request: AppRequest, env: DiscoveryEnv): Promise<Response> {
  const { url } = await readJson(request, CandidateSchema, PROTOCOL_BODY_LIMIT);
  await registry(env).addCandidate(url, "scan");
  return json({ status: "queued", url }, 202);
}

async function scanStatus(_req: AppRequest, env: DiscoveryEnv): Promise<Response> {
  const scan = await registry(env).scanStatus();
  return json(scan ? { status: scan.finished_at ? "finished" : "running", scan } : { status: "none", scan: null });
}

export const discoveryApp = createApp<DiscoveryEnv>("discovery", {
  guards: {
    token: (env) => vars(env).AIOS_API_TOKEN,
    peer: (request, env) => verifyCell(request, identity(env), PROTOCOL_BODY_LIMIT),
    admission: admit,
  },
})
  .get("/health", "public", health)
  .get("/peers", "public", peers)
  .get("/scan", "public", scanStatus)
  .post("/peers/hello", "admission", helloRoute)
  .post("/heartbeat", "peer-or-token", heartbeatRoute)
  .post("/register", "peer-or-token", registerRoute)
  .post("/peers/register", "peer-or-token", registerRoute)
  .post("/peers", "peer-or-token", registerRoute)
  .delete("/unregister/:cell_id", "token", unregisterRoute)
  .delete("/peers/:cell_id", "token", unregisterRoute)
  .post("/scan", "token", startScan)
  .post("/candidates", "token", addCandidate);
