import { describe, expect, it } from "vitest";
import { BridgeError } from "../src/http";
import { McpClient, ToolError, parseEventStream } from "../src/mcp";

type Reply = { status?: number; type?: string; body: string };
/** A stand-in bridge: records the JSON-RPC requests, answers with `reply`. */
function fakeBridge(reply: (msg: { method: string; params: Record<string, unknown>; id: number }) => Reply) {
  const seen: { method: string; params: Record<string, unknown>; headers: Headers }[] = [];
  const fetchImpl = async (_url: string, init?: RequestInit) => {
    const msg = JSON.parse(String(init?.body)) as { method: string; params: Record<string, unknown>; id: number };
    seen.push({ method: msg.method, params: msg.params, headers: new Headers(init?.headers) });
    const r = reply(msg);
    return new Response(r.body, { status: r.status ?? 200, headers: { "content-type": r.type ?? "application/json" } });
  };
  return { seen, fetchImpl };
}
const rpc = (id: number, result: unknown) => JSON.stringify({ jsonrpc: "2.0", id, result });

describe("the MCP client", () => {
  it("sends JSON-RPC with the headers Streamable HTTP asks for, and returns a tool's structured content", async () => {
    const b = fakeBridge((m) => ({
      body: rpc(m.id, { content: [{ type: "text", text: "{}" }], structuredContent: { entities: [] } }),
    }));
    const mcp = new McpClient("http://127.0.0.1:3001/mcp", b.fetchImpl);
    expect(await mcp.callTool("search_nodes", { query: "x" })).toEqual({ entities: [] });
    expect(b.seen[0]!.method).toBe("tools/call");
    expect(b.seen[0]!.params).toEqual({ name: "search_nodes", arguments: { query: "x" } });
    expect(b.seen[0]!.headers.get("accept")).toBe("application/json, text/event-stream");
    expect(b.seen[0]!.headers.get("mcp-protocol-version")).toMatch(/^\d{4}-\d\d-\d\d$/);
  });

  it("reads an event-stream answer too", async () => {
    const b = fakeBridge((m) => ({
      type: "text/event-stream",
      body: `: keep-alive\n\nevent: message\ndata: ${rpc(m.id, { content: [{ type: "text", text: '{"ok":1}' }] })}\n\n`,
    }));
    expect(await new McpClient("http://x/mcp", b.fetchImpl).callTool("t", {})).toEqual({ ok: 1 });
    expect(parseEventStream("data: not json\n\n")).toBeUndefined();
  });

  it("a tool's error is a ToolError with its message; a protocol error is a BridgeError", async () => {
    const tool = fakeBridge((m) => ({
      body: rpc(m.id, { isError: true, content: [{ type: "text", text: "entity Nobody not found" }] }),
    }));
    await expect(new McpClient("http://x/mcp", tool.fetchImpl).callTool("add_observations", {})).rejects.toThrow(ToolError);
    await expect(new McpClient("http://x/mcp", tool.fetchImpl).callTool("add_observations", {})).rejects.toThrow(
      "add_observations: entity Nobody not found",
    );
    const proto = fakeBridge((m) => ({
      body: JSON.stringify({ jsonrpc: "2.0", id: m.id, error: { code: -32602, message: "bad params" } }),
    }));
    await expect(new McpClient("http://x/mcp", proto.fetchImpl).request("tools/call")).rejects.toThrow(/bad params \(-32602\)/);
    const http = fakeBridge(() => ({ status: 403, body: '{"error":"origin not allowed"}' }));
    await expect(new McpClient("http://x/mcp", http.fetchImpl).request("tools/list")).rejects.toThrow(/403/);
  });

  it("nothing listening is a BridgeError that says the stack is not running", async () => {
    const refused = async () => {
      throw new TypeError("fetch failed");
    };
    const err = await new McpClient("http://127.0.0.1:3999/mcp", refused).request("tools/list").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BridgeError);
    expect((err as BridgeError).reachable).toBe(false);
    expect((err as Error).message).toBe("the AIOS stack is not running (nothing answers there: http://127.0.0.1:3999)");
  });

  it("asks for the tools once a minute at most (feature detection stays cheap), and again after", async () => {
    let now = 0;
    const b = fakeBridge((m) => ({ body: rpc(m.id, { tools: [{ name: "search_nodes" }] }) }));
    const mcp = new McpClient("http://x/mcp", b.fetchImpl, 5000, 60_000, () => now);
    expect(await mcp.hasTool("recall")).toBe(false);
    expect(await mcp.hasTool("search_nodes")).toBe(true);
    now = 59_999;
    await mcp.listTools();
    expect(b.seen).toHaveLength(1);
    now = 60_000;
    await mcp.listTools();
    expect(b.seen).toHaveLength(2);
  });
});
