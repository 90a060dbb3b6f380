import { createApp, type AppRequest, type BaseEnv, type RequestContext } from "../../lib/app";
import { CODE_ASSIST_BODY_LIMIT, CodeAssistSchema } from "../../lib/code-assist";
import { unavailable } from "../../lib/errors";
import { json, readJson } from "../../lib/http";
import { ContextSchema, LevelReportSchema, STATE_BODY_LIMIT } from "../../lib/state-types";
import { tryRpc, type CellBinding, type DiscoveryBinding, type MetricsBinding } from "../../lib/rpc";
import { vars } from "../../lib/vars";
import { askCell, valueOf } from "./cell";
import { checkOrigin } from "./guard";
import { handleMcp, type McpEnv } from "./mcp/server";

export interface BridgeEnv extends BaseEnv, McpEnv {
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

async function codeAssist(request: AppRequest, env: BridgeEnv, _ctx: ExecutionContext, rc: RequestContext): Promise<Response> {
  const input = await readJson(request, CodeAssistSchema, CODE_ASSIST_BODY_LIMIT);
  return json({ ...valueOf(await askCell(env.CELL, (cell) => cell.codeAssist(input, rc.requestId))), source: "cell" });
}

/** The editor reports a level: recorded as coming from VS Code. */
async function syncConsciousness(
  request: AppRequest,
  env: BridgeEnv,
  _ctx: ExecutionContext,
  rc: RequestContext,
): Promise<Response> {
  const report = { ...(await readJson(request, LevelReportSchema, STATE_BODY_LIMIT)), source: "vscode" };
  return json(valueOf(await askCell(env.CELL, (cell) => cell.reportLevel(report, rc.requestId))));
}

async function putContext(request: AppRequest, env: BridgeEnv, _ctx: ExecutionContext, rc: RequestContext): Promise<Response> {
  const input = await readJson(request, ContextSchema, STATE_BODY_LIMIT);
  return json(valueOf(await askCell(env.CELL, (cell) => cell.setContext(input, rc.requestId))));
}

async function getContext(_req: AppRequest, env: BridgeEnv, _ctx: ExecutionContext, rc: RequestContext): Promise<Response> {
  return json(valueOf(await askCell(env.CELL, (cell) => cell.contexts(rc.requestId))));
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

/** Every route is `local`: loopback host names and no browser origin but VS Code's (guard.ts). */
export const bridgeApp = createApp<BridgeEnv>("bridge", { guards: { local: checkOrigin } })
  .get("/health", "local", health)
  .get("/network-peers", "local", networkPeers)
  .get("/vault-status", "local", vaultStatus)
  .post("/code-assist", "local", codeAssist)
  .post("/sync-consciousness", "local", syncConsciousness)
  .put("/context", "local", putContext)
  .get("/context", "local", getContext)
  .post("/mcp", "local", (req, env) => handleMcp(req, env))
  .get("/mcp", "local", (req, env) => handleMcp(req, env))
  .delete("/mcp", "local", (req, env) => handleMcp(req, env));
