/** Metrics worker (:9091): Prometheus /metrics and the durable counter sink of the stack. */
import { WorkerEntrypoint } from "cloudflare:workers";
import type { CounterDelta, MetricsBatch, MetricsSink } from "../../lib/metrics-buffer";
import { metricsApp, store, type MetricsEnv } from "./routes";

export { MetricsStore } from "../../durable-objects/metrics-store";

/** Requests from the socket: a plain handler (see workers/cell/index.ts). */
export default {
  fetch: (request, env, ctx) => metricsApp.fetch(request, env, ctx),
} satisfies ExportedHandler<MetricsEnv>;

/** What the other workers call over their service binding (`entrypoint = "MetricsEntrypoint"`). */
export class MetricsEntrypoint extends WorkerEntrypoint<MetricsEnv> implements MetricsSink {
  async record(batch: MetricsBatch): Promise<void> {
    await store(this.env).record(batch);
  }

  async add(deltas: CounterDelta[]): Promise<void> {
    await store(this.env).add(deltas);
  }
}
