/**
 * A small MCP client for the bridge's /mcp: Streamable HTTP, stateless, one
 * JSON-RPC request per POST. The bridge answers with JSON; an event-stream
 * answer is read too, so a future bridge that streams still works.
 */
import { BridgeError, DEFAULT_TIMEOUT_MS, type FetchLike } from "./http";

export const MCP_PROTOCOL_VERSION = "2025-06-18";

export interface ToolInfo {
  name: string;
  description?: string;
}

interface ToolResult {
  content?: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** A tool answered with isError: the message is the tool's own (e.g. "entity not found"). */
export class ToolError extends Error {
  constructor(
    readonly tool: string,
    message: string,
  ) {
    super(`${tool}: ${message}`);
    this.name = "ToolError";
  }
}

/** Reads the JSON-RPC message out of an event stream (the last `data:` event that carries one). */
export function parseEventStream(text: string): unknown {
  let found: unknown;
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data = block
      .split(/\r?\n/)
      .filter((l) => l.startsWith("data:"))
      .map((l) => l.slice(5).replace(/^ /, ""))
      .join("\n");
    if (!data) continue;
    try {
      const msg = JSON.parse(data) as Record<string, unknown>;
      if ("result" in msg || "error" in msg) found = msg;
    } catch {
      // not JSON: a comment or keep-alive
    }
  }
  return found;
}

export class McpClient {
  private nextId = 1;
  private tools: { at: number; list: ToolInfo[] } | undefined;

  constructor(
    readonly url: string,
    private readonly fetchImpl: FetchLike = fetch,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
    /** How long the list of tools is trusted before asking again (the stack may be upgraded while VS Code runs). */
    private readonly toolsTtlMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async request(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    let res: Response;
    try {
      res = await this.fetchImpl(this.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-protocol-version": MCP_PROTOCOL_VERSION,
        },
        body: JSON.stringify({ jsonrpc: "2.0", id, method, params }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const why = (e as Error).name === "TimeoutError" ? `no answer within ${this.timeoutMs / 1000} s` : "nothing answers there";
      throw new BridgeError(`the AIOS stack is not running (${why}: ${new URL(this.url).origin})`, false);
    }
    const text = await res.text();
    const type = res.headers.get("content-type") ?? "";
    let msg: unknown;
    try {
      msg = type.includes("text/event-stream") ? parseEventStream(text) : JSON.parse(text);
    } catch {
      msg = undefined;
    }
    const rpc = msg as { result?: unknown; error?: { code?: number; message?: string } } | undefined;
    // A JSON-RPC error is an object; the bridge's own refusals ({"error": "…"} with a 4xx) are not.
    if (rpc?.error && typeof rpc.error === "object")
      throw new BridgeError(`MCP ${method}: ${rpc.error.message ?? "error"} (${rpc.error.code ?? "?"})`, true);
    if (!res.ok || !rpc || !("result" in rpc))
      throw new BridgeError(
        `MCP ${method}: the bridge answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ""}`,
        true,
        res.status,
      );
    return rpc.result;
  }

  /** The bridge's tools; cached for a while, so feature detection costs one request a minute at most. */
  async listTools(): Promise<ToolInfo[]> {
    if (this.tools && this.now() - this.tools.at < this.toolsTtlMs) return this.tools.list;
    const result = (await this.request("tools/list")) as { tools?: ToolInfo[] };
    const list = Array.isArray(result.tools) ? result.tools : [];
    this.tools = { at: this.now(), list };
    return list;
  }

  async hasTool(name: string): Promise<boolean> {
    return (await this.listTools()).some((t) => t.name === name);
  }

  /** Calls a tool; its structured content (or its text parsed as JSON, or the text itself), or a ToolError. */
  async callTool(name: string, args: Record<string, unknown>): Promise<unknown> {
    const result = (await this.request("tools/call", { name, arguments: args })) as ToolResult;
    const text = (result.content ?? [])
      .filter((c) => c.type === "text" && typeof c.text === "string")
      .map((c) => c.text)
      .join("\n");
    if (result.isError) throw new ToolError(name, text || "the tool failed without a message");
    if (result.structuredContent) return result.structuredContent;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
}
