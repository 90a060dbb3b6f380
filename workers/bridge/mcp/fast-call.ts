/**
 * The fast path of the call assistants make most: a single JSON-RPC `tools/call` of one of our
 * tools, answered without building a transport and routing through the SDK's protocol machinery.
 * It runs the same ToolSpec with the same validation and gives the same result the SDK would; any
 * request it does not fully recognise (a batch, another method, an unusual header) goes to the SDK.
 */
import { SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js";
import type { CellBinding } from "../../../lib/rpc";
import { CELL_TOOLS } from "./cell-tools";
import { MEMORY_TOOLS } from "./memory-tools";
import { RECALL_TOOL } from "./recall-tool";
import { callTool, type ToolSpec } from "./tools";

export const TOOL_SPECS: readonly ToolSpec[] = [...MEMORY_TOOLS, RECALL_TOOL, ...CELL_TOOLS];
const byName = new Map(TOOL_SPECS.map((t) => [t.name, t]));

interface ToolCall {
  id: string | number;
  spec: ToolSpec;
  args: unknown;
}

/** The tool call this request is, if it is exactly one plain tools/call of a known tool. */
function toolCall(request: Request, body: unknown): ToolCall | undefined {
  const accept = request.headers.get("accept") ?? "";
  if (!accept.includes("application/json") || !accept.includes("text/event-stream")) return undefined;
  const version = request.headers.get("mcp-protocol-version");
  if (version !== null && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) return undefined;
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const m = body as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
  if (m.jsonrpc !== "2.0" || m.method !== "tools/call") return undefined;
  if (typeof m.id !== "string" && typeof m.id !== "number") return undefined;
  if (typeof m.params !== "object" || m.params === null) return undefined;
  const params = m.params as { name?: unknown; arguments?: unknown; task?: unknown };
  if (typeof params.name !== "string" || params.task !== undefined) return undefined;
  const spec = byName.get(params.name);
  return spec ? { id: m.id, spec, args: params.arguments } : undefined;
}

/** Answers the request when it is a plain tool call; undefined when the SDK should. */
export function fastToolCall(request: Request, body: unknown, cell: CellBinding | undefined): Promise<Response> | undefined {
  const call = toolCall(request, body);
  if (!call) return undefined;
  return callTool(call.spec, call.args, cell).then(
    (result) =>
      new Response(JSON.stringify({ result, jsonrpc: "2.0", id: call.id }), {
        headers: { "content-type": "application/json" },
      }),
  );
}
