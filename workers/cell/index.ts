/** Cell worker (:8000): REST API, shared consciousness state, code assistance, dashboard. */
import { WorkerEntrypoint } from "cloudflare:workers";
import { markTrusted } from "../../lib/auth";
import type { CellInfo, CellMetrics, CellRpc } from "../../lib/rpc";
import { cellApp } from "./routes";
import { cellInfo, cellMetrics } from "./status";
import type { CellEnv } from "./env";

export { ConsciousnessState } from "../../durable-objects/consciousness-state";

export default class Cell extends WorkerEntrypoint<CellEnv> implements CellRpc {
  override fetch(request: Request): Promise<Response> {
    return cellApp.fetch(request, this.env, this.ctx);
  }

  info(): Promise<CellInfo> {
    return cellInfo(this.env);
  }

  metricsSnapshot(): Promise<CellMetrics> {
    return cellMetrics(this.env);
  }

  trustedFetch(request: Request): Promise<Response> {
    markTrusted(request);
    return cellApp.fetch(request, this.env, this.ctx);
  }
}
