/** Cell worker (:8000): REST API, shared consciousness state, code assistance, dashboard. */
import { WorkerEntrypoint } from "cloudflare:workers";
import type { CodeAssistInput } from "../../lib/code-assist";
import { unavailable } from "../../lib/errors";
import type { GraphOp, GraphRequest } from "../../lib/graph-types";
import type { MessageRecallRequest } from "../../lib/message-recall-types";
import type { RecallRequest } from "../../lib/recall-types";
import { createLogger } from "../../lib/log";
import { answer, type Answer, type CellInfo, type CellMetrics, type CellRpc } from "../../lib/rpc";
import { vars } from "../../lib/vars";
import type { ContextInput, LevelReport, MessageInput, MessageQuery } from "../../lib/state-types";
import { assist } from "./code-assist";
import { recallMessages } from "./recall-routes";
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

  graph<K extends GraphOp>(op: K, args: GraphRequest<K>, trace?: string) {
    return this.call(op, trace, () => ops.graphAnswer(this.env, op, args));
  }

  recall(request: RecallRequest, trace?: string) {
    return this.call("recall", trace, () => state(this.env).recall(request));
  }

  namespaces() {
    return answer(() => state(this.env).namespaces());
  }

  contexts(trace?: string) {
    return this.call("contexts", trace, () => ops.contexts(this.env));
  }

  setContext(input: ContextInput, trace?: string) {
    return this.call("setContext", trace, () => ops.setContext(this.env, input));
  }

  reportLevel(report: LevelReport, trace?: string) {
    return this.call("reportLevel", trace, () => ops.reportLevel(this.env, report));
  }

  codeAssist(input: CodeAssistInput, trace?: string) {
    return this.call("codeAssist", trace, () => assist(this.env, input));
  }

  sendMessage(input: MessageInput) {
    return answer(() => ops.sendMessage(this.env, input));
  }

  messages(query: MessageQuery) {
    return answer(() => ops.listMessages(this.env, query));
  }

  recallMessages(request: MessageRecallRequest, trace?: string) {
    return this.call("recallMessages", trace, () => recallMessages(this.env, request));
  }

  consciousness() {
    return answer(() => consciousnessReport(this.env));
  }

  /**
   * Runs a call for another worker; its log lines carry the caller's request id (`trace`): every call
   * at debug level, as the socket's requests are, and any failure that is not a refusal.
   */
  private async call<T>(method: string, trace: string | undefined, work: () => Promise<T>): Promise<Answer<T>> {
    const started = Date.now();
    const result = await answer(work);
    const v = vars(this.env);
    const failed = !result.ok && result.status >= 500;
    if (failed || v.AIOS_LOG_LEVEL === "debug") {
      const log = createLogger({ service: "cell", cell_id: v.AIOS_CELL_ID, request_id: trace ?? null }, v.AIOS_LOG_LEVEL);
      const fields = { method, ok: result.ok, ms: Date.now() - started };
      if (failed) log.error("call failed", { ...fields, error: result.ok ? undefined : result.error });
      else log.debug("call", fields);
    }
    return result;
  }

  peers() {
    return answer(async () => (await peersView(this.env)) ?? Promise.reject(unavailable("discovery does not answer")));
  }
}
