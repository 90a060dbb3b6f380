import type { CellIdentity } from "../../durable-objects/cell-identity";
import type { ConsciousnessState } from "../../durable-objects/consciousness-state";
import { STATE_OBJECT } from "../../lib/state-types";
import type { McpSessions } from "../../durable-objects/mcp-sessions";
import type { BaseEnv } from "../../lib/app";
import type { CellVars } from "../../lib/env.generated";
import type { DiscoveryBinding, MetricsBinding } from "../../lib/rpc";

/** The cell's bindings and its variables (declared in lib/settings.ts, read through lib/vars.ts). */
export interface CellEnv extends BaseEnv, CellVars {
  STATE: DurableObjectNamespace<ConsciousnessState>;
  IDENTITY?: DurableObjectNamespace<CellIdentity>;
  DISCOVERY?: DiscoveryBinding;
  METRICS?: MetricsBinding;
  MCP_SESSIONS?: DurableObjectNamespace<McpSessions>;
}

/** The id is derived once per isolate: idFromName hashes the name, a cost on every state request. */
let stateId: { ns: CellEnv["STATE"]; id: DurableObjectId } | undefined;

/** The one ConsciousnessState of this cell (it holds every namespace). */
export function state(env: CellEnv): DurableObjectStub<ConsciousnessState> {
  if (stateId?.ns !== env.STATE) stateId = { ns: env.STATE, id: env.STATE.idFromName(STATE_OBJECT) };
  return env.STATE.get(stateId.id);
}
