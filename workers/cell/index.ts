/** Cell worker (:8000): REST API, shared consciousness state, code assistance, dashboard. */
import { WorkerEntrypoint } from "cloudflare:workers";
import { markTrusted } from "../../lib/auth";
import type { CellInfo, CellMetrics, CellRpc } from "../../lib/rpc";
import { cellApp } from "./routes";
import { cellInfo, cellMetrics } from "./status";
import type { CellEnv } from "./env";

export { ConsciousnessState } from "../../durable-objects/consciousness-state";

/**
 * Requests from the socket. A plain handler, not a class: workerd constructs a class entrypoint for
 * every request, which measured a tenth of a small request's cost (lib/app.ts).
 */
export default {
  fetch: (request, env, ctx) => cellApp.fetch(request, env, ctx),
} satisfies ExportedHandler<CellEnv>;

/** What the other workers call over their service binding (`entrypoint = "CellEntrypoint"`). */
export class CellEntrypoint extends WorkerEntrypoint<CellEnv> implements CellRpc {
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
