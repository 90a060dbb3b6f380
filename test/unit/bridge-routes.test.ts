/**
 * The bridge's routes (:3001), through the bridge worker that runs beside this cell: what VS Code
 * calls over REST and MCP, and the DNS-rebinding defence in front of them.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { freshNamespace, ok } from "./helpers";
import { ALL_TOOLS } from "../helpers/mcp-tools";

function bridge(path: string, init: RequestInit & { host?: string } = {}): Promise<Response> {
  const { host = "127.0.0.1:3001", ...rest } = init;
  const headers = new Headers(rest.headers);
  headers.set("host", host);
  if (rest.body !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");
  return env.BRIDGE_HTTP.fetch(`http://${host}${path}`, { ...rest, headers });
}

/** One JSON-RPC call to /mcp, without a session (the transport is stateless). */
async function mcp(method: string, params: unknown): Promise<{ result?: Record<string, unknown>; error?: { message: string } }> {
  const res = await bridge("/mcp", {
    method: "POST",
    headers: { accept: "application/json, text/event-stream", "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  expect(res.status).toBe(200);
  const text = await res.text();
  // The answer is one JSON message, or one server-sent event holding it.
  const data = text.startsWith("{") ? text : /^data: (.*)$/m.exec(text)?.[1];
  return JSON.parse(data ?? "null") as { result?: Record<string, unknown>; error?: { message: string } };
}

type ToolResult = { isError?: boolean; content: { type: string; text: string }[]; structuredContent?: Record<string, unknown> };
const tool = async (name: string, args: Record<string, unknown>) =>
  (await mcp("tools/call", { name, arguments: args })).result as ToolResult;

describe("bridge REST", () => {
  it("GET /health reports the cell, discovery and itself up, with the cell's id and level", async () => {
    const res = await bridge("/health");
    expect(res.status).toBe(200);
    const body = await res.json<Record<string, unknown>>();
    expect(body).toMatchObject({
      status: "healthy",
      services: { cell: "up", discovery: "up", bridge: "up" },
      cell_info: { cell_id: "unit-cell" },
    });
    const cell = await (await bridge("/health")).json<{ cell_info: { consciousness_level: number } }>();
    expect(cell.cell_info.consciousness_level).toBeGreaterThanOrEqual(0.85);
  });

  it("POST /code-assist is the cell's analysis, marked source cell; a bad body is the cell's 400", async () => {
    const res = await bridge("/code-assist", {
      method: "POST",
      body: JSON.stringify({ code: "def f(x=[]):\n    return x\n", file: "f.py", action: "review" }),
    });
    expect(res.status).toBe(200);
    const body = await res.json<{
      source: string;
      action: string;
      analysis: { language: unknown; findings: { rule: string }[] };
    }>();
    expect(body).toMatchObject({ source: "cell", action: "review" });
    expect(body.analysis.language).toMatchObject({ language: "python" });
    expect(body.analysis.findings.length).toBeGreaterThan(0);
    const bad = await bridge("/code-assist", { method: "POST", body: JSON.stringify({ action: "review" }) });
    expect(bad.status).toBe(400);
    expect((await bad.json<{ error: string }>()).error).toMatch(/code/);
  });

  it("POST /sync-consciousness reaches the cell as from VS Code; a body that is not an object is refused", async () => {
    const res = await bridge("/sync-consciousness", { method: "POST", body: JSON.stringify({ level: 0.61 }) });
    expect(res.status).toBe(200);
    const cons = await ok<{ reported_levels: { reporter: string; source: string; level: number }[] }>("/consciousness");
    expect(cons.reported_levels).toContainEqual(expect.objectContaining({ source: "vscode", level: 0.61 }));
    expect((await bridge("/sync-consciousness", { method: "POST", body: "[1,2]" })).status).toBe(400);
    expect((await bridge("/sync-consciousness", { method: "POST", body: "{broken" })).status).toBe(400);
  });

  it("PUT and GET /context go to the cell without a token", async () => {
    // A refused PUT shows the cell's own validation answering, without changing the context other tests read.
    const refused = await bridge("/context", { method: "PUT", body: JSON.stringify({ note: 42 }) });
    expect(refused.status).toBe(400);
    expect((await refused.json<{ error: string }>()).error).toMatch(/note/);
    const got = await bridge("/context");
    expect(got.status).toBe(200);
    const body = await got.json<{ cell_id: string; context: unknown; contexts: unknown[] }>();
    expect(body.cell_id).toBe("unit-cell");
    expect(Array.isArray(body.contexts)).toBe(true);
  });

  it("GET /network-peers lists discovery's peers; GET /vault-status says not_configured without Vault", async () => {
    const peers = await (await bridge("/network-peers")).json<{ peers: unknown[]; count: number }>();
    expect(peers.count).toBe(peers.peers.length);
    const fromDiscovery = await env.DISCOVERY_HTTP.fetch("http://127.0.0.1:8001/peers");
    expect(peers.count).toBe((await fromDiscovery.json<{ count: number }>()).count);
    const vault = await (await bridge("/vault-status")).json<Record<string, unknown>>();
    expect(vault).toMatchObject({
      status: "not_configured",
      vault: "not_configured",
      address_configured: false,
      keys_from_vault: [],
    });
  });
});

describe("bridge defence", () => {
  it("answers loopback host names only", async () => {
    for (const host of ["localhost:3001", "127.0.0.1:3001", "[::1]:3001"]) {
      expect((await bridge("/health", { host })).status, host).toBe(200);
    }
    for (const host of ["evil.example:3001", "192.168.1.20:3001", "localhost.evil.example"]) {
      const res = await bridge("/health", { host });
      expect(res.status, host).toBe(403);
      expect((await res.json<{ error: string }>()).error).toMatch(/loopback/);
    }
  });

  it("refuses browser origins other than VS Code's", async () => {
    const web = await bridge("/health", { headers: { origin: "https://evil.example" } });
    expect(web.status).toBe(403);
    expect((await web.json<{ error: string }>()).error).toMatch(/origin/);
    for (const origin of ["vscode-webview://abc", "vscode-file://vscode-app", "null"]) {
      expect((await bridge("/health", { headers: { origin } })).status, origin).toBe(200);
    }
  });

  it("unknown paths are a JSON 404 and wrong methods a JSON 405", async () => {
    expect((await bridge("/nowhere")).status).toBe(404);
    const wrong = await bridge("/health", { method: "DELETE" });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toMatch(/GET/);
  });
});

describe("bridge /mcp", () => {
  it("lists the nine memory tools and the cell's own, and no other", async () => {
    const { result } = await mcp("tools/list", {});
    const names = (result!["tools"] as { name: string }[]).map((t) => t.name);
    expect([...names].sort()).toEqual([...ALL_TOOLS].sort());
  });

  it("deletes in a namespace never written are a silent success, as in the reference server", async () => {
    const namespace = freshNamespace();
    const calls: [string, Record<string, unknown>, string][] = [
      ["delete_entities", { namespace, entityNames: ["Nobody"] }, "Entities deleted successfully"],
      [
        "delete_observations",
        { namespace, deletions: [{ entityName: "Nobody", observations: ["x"] }] },
        "Observations deleted successfully",
      ],
      [
        "delete_relations",
        { namespace, relations: [{ from: "a", to: "b", relationType: "c" }] },
        "Relations deleted successfully",
      ],
    ];
    for (const [name, args, text] of calls) {
      const r = await tool(name, args);
      expect(r.isError ?? false, name).toBe(false);
      expect(r.content[0]!.text).toBe(text);
    }
    expect(await ok(`/memory/read_graph?namespace=${namespace}`)).toEqual({ entities: [], relations: [] });
  });

  it("read_messages pages with the cursor the REST answer gives", async () => {
    const from = `mcp-pager-${freshNamespace()}`;
    for (let i = 0; i < 3; i++) await ok("/message", { from_cell: from, content: `m${i}` });
    const first = (await tool("read_messages", { from_cell: from, limit: 2 })).structuredContent as {
      messages: { content: string }[];
      next_cursor: string;
    };
    expect(first.messages.map((m) => m.content)).toEqual(["m2", "m1"]);
    const second = (await tool("read_messages", { from_cell: from, limit: 2, before: first.next_cursor })).structuredContent as {
      messages: { content: string }[];
      next_cursor: string | null;
    };
    expect(second.messages.map((m) => m.content)).toEqual(["m0"]);
    expect(second.next_cursor).toBeNull();
  });

  it("recall_messages finds a message sent with send_message, and names a bad argument", async () => {
    const word = `okapi${freshNamespace()}`;
    expect((await tool("send_message", { content: `the ${word} release is signed`, type: "status" })).isError).toBeFalsy();
    await ok("/message", { content: "lunch is at noon" });
    const found = (await tool("recall_messages", { query: `is the ${word} release signed?`, limit: 3 })).structuredContent as {
      results: { content: unknown; message_type: string }[];
      fallback?: boolean;
      reason?: string;
    };
    // No embedder in the unit tests: the answer says so and finds the message by its words.
    expect(found.fallback).toBe(true);
    expect(found.reason).toBeTruthy();
    expect(found.results[0]).toMatchObject({ content: `the ${word} release is signed`, message_type: "status" });
    expect(found.results.some((m) => m.content === "lunch is at noon")).toBe(false);
    const bad = await tool("recall_messages", { query: "" });
    expect(bad.isError).toBe(true);
    expect(bad.content[0]!.text).toContain("query");
  });
});
