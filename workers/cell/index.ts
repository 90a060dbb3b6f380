/** Cell worker (:8000): REST API, shared consciousness state, code assistance, dashboard. */
import { WorkerEntrypoint } from "cloudflare:workers";
import type { CodeAssistInput } from "../../lib/code-assist";
import { unavailable } from "../../lib/errors";
import type { GraphOp, GraphRequest } from "../../lib/graph-types";
import type { RecallRequest } from "../../lib/recall-types";
import { answer, type CellInfo, type CellMetrics, type CellRpc } from "../../lib/rpc";
import type { ContextInput, LevelReport, MessageInput, MessageQuery } from "../../lib/state-types";
import { assist } from "./code-assist";
import { cellApp } from "./routes";
import * as ops from "./state-routes";
import { cellInfo, cellMetrics, consciousnessReport, peersView } from "./status";
import { state, type CellEnv } from "./env";

export { ConsciousnessState } from "../../durable-objects/consciousness-state";
export { McpSessions } from "../../durable-objects/mcp-sessions";

/**
 * Requests from the socket. A plain handler, not a class: workerd constructs a class entrypoint for
 * every request, which measured a tenth of a small request's cost (lib/app.ts).
 */
export default {
  fetch: (request, env, ctx) => cellApp.fetch(request, env, ctx),
} satisfies ExportedHandler<CellEnv>;

/** What the other workers of this stack call over their service binding (`entrypoint = "CellEntrypoint"`). */
export class CellEntrypoint extends WorkerEntrypoint<CellEnv> implements CellRpc {
  info(): Promise<CellInfo> {
    return cellInfo(this.env);
  }

  metricsSnapshot(): Promise<CellMetrics> {
    return cellMetrics(this.env);
  }

  graph<K extends GraphOp>(op: K, args: GraphRequest<K>) {
    return answer(() => ops.graphAnswer(this.env, op, args));
  }

  recall(request: RecallRequest) {
    return answer(() => state(this.env).recall(request));
  }

  namespaces() {
    return answer(() => state(this.env).namespaces());
  }

  contexts() {
    return answer(() => ops.contexts(this.env));
  }

  setContext(input: ContextInput) {
    return answer(() => ops.setContext(this.env, input));
  }

  reportLevel(report: LevelReport) {
    return answer(() => ops.reportLevel(this.env, report));
  }

  codeAssist(input: CodeAssistInput) {
    return answer(() => assist(this.env, input));
  }

  sendMessage(input: MessageInput) {
    return answer(() => ops.sendMessage(this.env, input));
  }

  messages(query: MessageQuery) {
    return answer(() => ops.listMessages(this.env, query));
  }

  consciousness() {
    return answer(() => consciousnessReport(this.env));
  }

  peers() {
    return answer(async () => (await peersView(this.env)) ?? Promise.reject(unavailable("discovery does not answer")));
  }
}
