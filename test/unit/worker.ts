/**
 * The unit tests' main worker: the cell exactly as deployed, plus the other workers' Durable Object
 * classes, so tests can run those objects (and their alarms) in this isolate with runInDurableObject.
 */
export { CellEntrypoint, ConsciousnessState, McpSessions } from "../../workers/cell/index";
export { default } from "../../workers/cell/index";
export { CellIdentity } from "../../durable-objects/cell-identity";
export { MetricsStore } from "../../durable-objects/metrics-store";
export { PeerRegistry } from "../../durable-objects/peer-registry";
export { RelayReplica } from "../../durable-objects/relay-replica";
