import { createApp, type AppRequest, type BaseEnv, type RequestContext } from "../../lib/app";
import { HttpError, unavailable } from "../../lib/errors";
import { json, readText } from "../../lib/http";
import { tryRpc, type CellBinding, type DiscoveryBinding, type MetricsBinding } from "../../lib/rpc";
import { vars } from "../../lib/vars";
import { checkOrigin } from "./guard";
import { handleMcp } from "./mcp/server";

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
  const v = vars(env);
  return json({
    status: cell && peers ? "healthy" : "degraded",
    cell_id: v.AIOS_CELL_ID,
    // Where this machine's cell (and its dashboard, GET /) answers, for the editor to open.
    cell_url: `http://${v.AIOS_ADVERTISE_HOST.includes(":") ? `[${v.AIOS_ADVERTISE_HOST}]` : v.AIOS_ADVERTISE_HOST}:${v.AIOS_CELL_PORT}/`,
    services: { cell: up(cell), discovery: up(peers), bridge: "up" },
    cell_info: cell ? { cell_id: cell.cell_id, branch: cell.branch, consciousness_level: cell.consciousness_level } : null,
  });
}

async function networkPeers(_req: AppRequest, env: BridgeEnv): Promise<Response> {
  const peers = env.DISCOVERY ? await tryRpc(() => env.DISCOVERY!.peers()) : undefined;
  if (!peers) throw unavailable("discovery does not answer");
  return json({ peers, count: peers.length });
}

const FORWARD_LIMIT = 2 * 1024 * 1024;
/** Code assistance may wait for a model: give the cell that long before calling it unreachable. */
const CELL_TIMEOUT_MS = 65_000;

/**
 * Hands a request to the local cell over the service binding (as the trusted
 * local caller: no token). `patch` may rewrite the JSON body on the way.
 */
async function toCell(
  request: AppRequest,
  env: BridgeEnv,
  rc: RequestContext,
  path: string,
  patch?: (body: Record<string, unknown>) => Record<string, unknown>,
): Promise<Response> {
  if (!env.CELL) throw unavailable("the bridge has no cell binding");
  let body: string | undefined;
  if (request.method !== "GET") {
    body = await readText(request, FORWARD_LIMIT);
    if (patch) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch (e) {
        throw new HttpError(400, `body is not valid JSON: ${(e as Error).message}`);
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
        throw new HttpError(400, "body must be a JSON object");
      body = JSON.stringify(patch(parsed as Record<string, unknown>));
    }
  }
  const forwarded = new Request(`http://cell${path}`, {
    method: request.method,
    headers: { "content-type": "application/json", "x-request-id": rc.requestId },
    body,
  });
  const res = await tryRpc(() => env.CELL!.trustedFetch(forwarded), CELL_TIMEOUT_MS);
  if (!res) throw unavailable("the cell does not answer; nothing was done and no suggestions were made");
  return res;
}

async function codeAssist(request: AppRequest, env: BridgeEnv, _ctx: ExecutionContext, rc: RequestContext): Promise<Response> {
  const res = await toCell(request, env, rc, "/code-assist");
  if (!res.ok) return res;
  const answer = (await res.json()) as Record<string, unknown>;
  return json({ ...answer, source: "cell" });
}

async function vaultStatus(_req: AppRequest, env: BridgeEnv): Promise<Response> {
  const v = vars(env);
  const status = v.AIOS_VAULT_STATUS ?? (v.AIOS_VAULT_ADDR ? "unavailable" : "not_configured");
  // Names of the secrets read from Vault, never their values; the rest came from the environment.
  const keys = v.AIOS_VAULT_KEYS.split(",").filter(Boolean);
  return json({
    status,
    vault: status,
    address_configured: Boolean(v.AIOS_VAULT_ADDR),
    keys_from_vault: keys,
    ...(status === "unavailable" && v.AIOS_VAULT_PROBLEM ? { problem: v.AIOS_VAULT_PROBLEM } : {}),
    timestamp: new Date().toISOString(),
  });
}

export const bridgeApp = createApp<BridgeEnv>("bridge")
  .before(checkOrigin)
  .get("/health", health)
  .get("/network-peers", networkPeers)
  .get("/vault-status", vaultStatus)
  .post("/code-assist", codeAssist)
  .post("/sync-consciousness", (req, env, _ctx, rc) =>
    toCell(req, env, rc, "/sync-consciousness", (b) => ({ ...b, source: "vscode" })),
  )
  .put("/context", (req, env, _ctx, rc) => toCell(req, env, rc, "/context"))
  .get("/context", (req, env, _ctx, rc) => toCell(req, env, rc, "/context"))
  .post("/mcp", (req, env) => handleMcp(req, env.CELL))
  .get("/mcp", (req, env) => handleMcp(req, env.CELL))
  .delete("/mcp", (req, env) => handleMcp(req, env.CELL));
