/** Metrics worker (:9091): Prometheus /metrics and the durable counter sink of the stack. */
import { WorkerEntrypoint } from "cloudflare:workers";
import type { CounterDelta, MetricsBatch, MetricsSink } from "../../lib/metrics-buffer";
import { metricsApp, store, type MetricsEnv } from "./routes";

export { MetricsStore } from "../../durable-objects/metrics-store";

export default class Metrics extends WorkerEntrypoint<MetricsEnv> implements MetricsSink {
  override fetch(request: Request): Promise<Response> {
    return metricsApp.fetch(request, this.env, this.ctx);
  }

  async record(batch: MetricsBatch): Promise<void> {
    await store(this.env).record(batch);
  }

  async add(deltas: CounterDelta[]): Promise<void> {
    await store(this.env).add(deltas);
  }
}
