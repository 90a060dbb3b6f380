/** Relay worker: its route table (routes.ts) and its one Durable Object class. */
import { relayApp, type RelayWorkerEnv } from "./routes";

export { RelayReplica } from "../../durable-objects/relay-replica";

export default { fetch: (request, env, ctx) => relayApp.fetch(request, env, ctx) } satisfies ExportedHandler<RelayWorkerEnv>;
