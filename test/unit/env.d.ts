// The unit tests run as the cell worker: its bindings are the test env, plus what test/unit/worker.ts
// and vitest.config.ts add for tests (the other workers' objects and HTTP entries).
import type { CellIdentity } from "../../durable-objects/cell-identity";
import type { MetricsStore } from "../../durable-objects/metrics-store";
import type { PeerRegistry } from "../../durable-objects/peer-registry";
import type { RelayReplica } from "../../durable-objects/relay-replica";
import type { CellEnv } from "../../workers/cell/env";

declare global {
  namespace Cloudflare {
    interface Env extends CellEnv {
      TEST_PEERS: DurableObjectNamespace<PeerRegistry>;
      TEST_IDENTITY: DurableObjectNamespace<CellIdentity>;
      TEST_METRICS: DurableObjectNamespace<MetricsStore>;
      TEST_RELAY: DurableObjectNamespace<RelayReplica>;
      AIOS_RELAY_KEY: string;
      DISCOVERY_HTTP: Fetcher;
      BRIDGE_HTTP: Fetcher;
      METRICS_HTTP: Fetcher;
    }
  }
}
