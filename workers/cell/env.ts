import type { CellIdentity } from "../../durable-objects/cell-identity";
import type { ConsciousnessState } from "../../durable-objects/consciousness-state";
import type { BaseEnv } from "../../lib/app";
import type { DiscoveryBinding, MetricsBinding } from "../../lib/rpc";

export interface CellEnv extends BaseEnv {
  STATE: DurableObjectNamespace<ConsciousnessState>;
  IDENTITY?: DurableObjectNamespace<CellIdentity>;
  DISCOVERY?: DiscoveryBinding;
  METRICS?: MetricsBinding;
}

/** The one ConsciousnessState of this cell (it holds every namespace). */
export function state(env: CellEnv): DurableObjectStub<ConsciousnessState> {
  return env.STATE.get(env.STATE.idFromName("consciousness"));
}
