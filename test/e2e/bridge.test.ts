/** The bridge's REST contract and MCP for Copilot, on real stacks. */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { ALL_TOOLS } from "../helpers/mcp-tools";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestStack, until } from "../../harness/stack";

const ENV = { AIOS_CLUSTER_SECRET: "bridge-secret", AIOS_API_TOKEN: "bridge-token" };

async function mcpClient(s: TestStack): Promise<Client> {
  const client = new Client({ name: "e2e", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(s.url("bridge", "/mcp"))));
  return client;
}

type ToolResult = { isError?: boolean; structuredContent?: Record<string, unknown>; content: { type: string; text: string }[] };

describe("bridge", () => {
  let desk: TestStack, laptop: TestStack;
  beforeAll(async () => {
    [desk, laptop] = await Promise.all([
      TestStack.start({ ip: "127.0.35.1", cellId: "desk", env: { ...ENV, AIOS_NETWORK_PEERS: "127.0.35.2" } }),
      TestStack.start({ ip: "127.0.35.2", cellId: "laptop", env: ENV }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([desk?.stop(), laptop?.stop()]);
  });

  it("REST: code-assist forwards to the cell with source cell; sync-consciousness carries source vscode; context; vault status", async () => {
    const r = await fetch(desk.url("bridge", "/code-assist"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        code: "function add(a, b) {\n  // TODO: check types\n  return a == b ? a : a + b;\n}\n",
        file: "add.js",
      }),
    });
    expect(r.status).toBe(200);
    const answer = (await r.json()) as {
      source: string;
      layer: string;
      analysis: { outline: { name: string }[]; findings: { rule: string; line: number }[] };
    };
    expect(answer.source).toBe("cell");
    expect(answer.layer).toBe("builtin");
    expect(answer.analysis.outline.map((o) => o.name)).toContain("add");
    expect(answer.analysis.findings.some((f) => f.rule === "todo" && f.line === 2)).toBe(true);
    const bad = await fetch(desk.url("bridge", "/code-assist"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code: "x", action: "dance" }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(
      /valid actions: analyze, explain, review, refactor, generate, document, test/,
    );

    const sync = await fetch(desk.url("bridge", "/sync-consciousness"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ level: 0.5, context: { note: "from vscode" } }),
    });
    expect(sync.status).toBe(200);
    const cons = await desk.json<{ reported_levels: { reporter: string; source: string }[] }>("cell", "/consciousness");
    expect(cons.reported_levels).toContainEqual(expect.objectContaining({ reporter: "vscode", source: "vscode" }));

    const ctx = await fetch(desk.url("bridge", "/context"), {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ file: "src/app.ts", language: "typescript" }),
    });
    expect(ctx.status).toBe(200);
    expect(((await (await fetch(desk.url("bridge", "/vault-status"))).json()) as { status: string }).status).toBe(
      "not_configured",
    );
    // The bridge lists what discovery lists: desk's seed, the laptop, once it is alive.
    await until(async () => {
      const p = (await (await fetch(desk.url("bridge", "/network-peers"))).json()) as {
        peers: { cell_id: string; status: string }[];
      };
      return p.peers.some((x) => x.cell_id === "laptop" && x.status === "alive");
    }, 15_000);
    const peers = (await (await fetch(desk.url("bridge", "/network-peers"))).json()) as {
      count: number;
      peers: { cell_id: string }[];
    };
    const fromDiscovery = await desk.json<{ peers: { cell_id: string }[] }>("discovery", "/peers");
    expect(peers.count).toBe(peers.peers.length);
    expect(peers.peers.map((p) => p.cell_id)).toEqual(fromDiscovery.peers.map((p) => p.cell_id));
    expect(peers.peers.map((p) => p.cell_id)).toContain("laptop");
  });

  it("MCP: the official client lists the nine memory tools and the cell's own, with schemas", async () => {
    const client = await mcpClient(desk);
    try {
      const { tools } = await client.listTools();
      const names = tools.map((t) => t.name);
      expect([...names].sort()).toEqual([...ALL_TOOLS].sort());
      for (const t of tools) {
        expect(t.description?.length).toBeGreaterThan(10);
        expect(t.inputSchema.type).toBe("object");
      }
      const create = tools.find((t) => t.name === "create_entities")!;
      expect(Object.keys(create.inputSchema.properties ?? {})).toEqual(expect.arrayContaining(["entities"]));
    } finally {
      await client.close();
    }
  });

  it("MCP: a whole memory workflow on one machine is readable through the other machine's bridge", async () => {
    await until(
      async () =>
        (await desk.json<{ peers: { status: string }[] }>("discovery", "/peers")).peers.some((p) => p.status === "alive"),
      15_000,
    );
    const a = await mcpClient(desk);
    const b = await mcpClient(laptop);
    try {
      const created = (await a.callTool({
        name: "create_entities",
        arguments: {
          entities: [
            { name: "Copilot", entityType: "assistant", observations: ["prefers small diffs"] },
            { name: "Repo", entityType: "project", observations: [] },
          ],
        },
      })) as ToolResult;
      expect(created.isError).toBeFalsy();
      expect((created.structuredContent!["entities"] as unknown[]).length).toBe(2);
      const rel = (await a.callTool({
        name: "create_relations",
        arguments: { relations: [{ from: "Copilot", to: "Repo", relationType: "works on" }] },
      })) as ToolResult;
      expect(rel.structuredContent).toEqual({ relations: [{ from: "Copilot", to: "Repo", relationType: "works on" }] });
      const added = (await a.callTool({
        name: "add_observations",
        arguments: { observations: [{ entityName: "Copilot", contents: ["runs tests first", "prefers small diffs"] }] },
      })) as ToolResult;
      expect(added.structuredContent).toEqual({ results: [{ entityName: "Copilot", addedObservations: ["runs tests first"] }] });
      const missing = (await a.callTool({
        name: "add_observations",
        arguments: { observations: [{ entityName: "Nobody", contents: ["x"] }] },
      })) as ToolResult;
      expect(missing.isError).toBe(true);
      expect(missing.content[0]!.text).toMatch(/Entity with name Nobody not found/);

      const found = await until(
        async () => {
          const r = (await b.callTool({ name: "search_nodes", arguments: { query: "small diffs" } })) as ToolResult;
          const ents = r.structuredContent?.["entities"] as { name: string; observations: string[] }[] | undefined;
          // Replication is row by row: wait for both observations, not just the entity.
          return ents?.length && ents[0]!.observations.length === 2 ? ents : undefined;
        },
        5000,
        50,
      );
      expect(found[0]).toEqual({
        name: "Copilot",
        entityType: "assistant",
        observations: ["prefers small diffs", "runs tests first"],
      });
      const opened = (await b.callTool({ name: "open_nodes", arguments: { names: ["Repo"] } })) as ToolResult;
      expect(opened.structuredContent!["relations"]).toEqual([{ from: "Copilot", to: "Repo", relationType: "works on" }]);

      const del = (await b.callTool({
        name: "delete_observations",
        arguments: { deletions: [{ entityName: "Copilot", observations: ["runs tests first"] }] },
      })) as ToolResult;
      expect(del.structuredContent).toEqual({ success: true, message: "Observations deleted successfully" });
      expect(
        (
          (await b.callTool({
            name: "delete_relations",
            arguments: { relations: [{ from: "Copilot", to: "Repo", relationType: "works on" }] },
          })) as ToolResult
        ).isError,
      ).toBeFalsy();
      expect(
        ((await b.callTool({ name: "delete_entities", arguments: { entityNames: ["Repo"] } })) as ToolResult).isError,
      ).toBeFalsy();
      await until(
        async () => {
          const g = ((await a.callTool({ name: "read_graph", arguments: {} })) as ToolResult).structuredContent as {
            entities: { name: string; observations: string[] }[];
          };
          return g.entities.length === 1 && g.entities[0]!.observations.length === 1;
        },
        5000,
        50,
      );

      const msg = (await a.callTool({
        name: "send_message",
        arguments: { content: "hello laptop", type: "note" },
      })) as ToolResult;
      expect(msg.isError).toBeFalsy();
      await until(
        async () =>
          (
            ((await b.callTool({ name: "read_messages", arguments: { from_cell: "desk" } })) as ToolResult).structuredContent as {
              total: number;
            }
          ).total === 1,
        5000,
        50,
      );
      expect(
        ((await b.callTool({ name: "get_consciousness", arguments: {} })) as ToolResult).structuredContent!["level"],
      ).toBeGreaterThan(0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("MCP: bad arguments are MCP errors with a message, never a crash", async () => {
    const client = await mcpClient(desk);
    try {
      const r = await client
        .callTool({ name: "create_entities", arguments: { entities: "not a list" } })
        .catch((e: Error) => ({ isError: true, content: [{ type: "text", text: e.message }] }));
      expect((r as ToolResult).isError).toBe(true);
      // The message names the argument at fault and what it should have been.
      const message = (r as ToolResult).content.map((c) => c.text).join("\n");
      expect(message).toMatch(/expected array, received string at entities\b/);
      const unknown = await client
        .callTool({ name: "no_such_tool", arguments: {} })
        .catch((e: Error) => ({ isError: true, content: [{ type: "text", text: e.message }] }));
      expect((unknown as ToolResult).isError).toBe(true);
      const raw = await fetch(desk.url("bridge", "/mcp"), {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: "{broken",
      });
      expect(raw.status).toBeGreaterThanOrEqual(400);
      expect(raw.status).toBeLessThan(500);
    } finally {
      await client.close();
    }
  });

  it("MCP: tools refuse what REST refuses (the same size limits), as tool errors naming the field", async () => {
    const client = await mcpClient(desk);
    try {
      const long = (await client.callTool({
        name: "create_entities",
        arguments: { entities: [{ name: "Huge", entityType: "t", observations: ["x".repeat(8193)] }] },
      })) as ToolResult;
      expect(long.isError).toBe(true);
      expect(long.content[0]!.text).toMatch(/observation is longer than 8192 characters/);
      const badNs = (await client.callTool({ name: "read_graph", arguments: { namespace: "no spaces allowed" } })) as ToolResult;
      expect(badNs.isError).toBe(true);
      expect(badNs.content[0]!.text).toMatch(/namespace/);
      const graph = (await client.callTool({ name: "open_nodes", arguments: { names: ["Huge"] } })) as ToolResult;
      expect(graph.structuredContent).toEqual({ entities: [], relations: [] });
    } finally {
      await client.close();
    }
  });

  it("MCP: the graph is a resource read without a session; a subscribed session hears of changes, the other machine's too", async () => {
    // Sessionless: a bare JSON-RPC call, as scripts make them.
    const bare = async (method: string, params: Record<string, unknown>) => {
      const res = await fetch(desk.url("bridge", "/mcp"), {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      });
      expect(res.status).toBe(200);
      return (await res.json()) as { result?: Record<string, unknown>; error?: { message: string } };
    };
    const client = await mcpClient(desk);
    const other = await mcpClient(laptop);
    try {
      await client.callTool({
        name: "create_entities",
        arguments: { namespace: "res-proj", entities: [{ name: "ResourceDoc", entityType: "doc", observations: ["first"] }] },
      });
      const listed = await client.listResources();
      expect(listed.resources.map((r) => r.uri)).toEqual(
        expect.arrayContaining(["memory://knowledge-graph", "memory://knowledge-graph/res-proj"]),
      );
      const templates = await client.listResourceTemplates();
      expect(templates.resourceTemplates.map((t) => t.uriTemplate)).toContain("memory://knowledge-graph/{namespace}");
      const read = await bare("resources/read", { uri: "memory://knowledge-graph/res-proj" });
      const contents = (read.result!["contents"] as { mimeType: string; text: string }[])[0]!;
      expect(contents.mimeType).toBe("application/json");
      expect(JSON.parse(contents.text)).toEqual({
        entities: [{ name: "ResourceDoc", entityType: "doc", observations: ["first"] }],
        relations: [],
      });
      // Subscribing needs a session; a bare call is told so.
      const refused = await bare("resources/subscribe", { uri: "memory://knowledge-graph/res-proj" });
      expect(refused.error?.message).toMatch(/session/);

      const updates: string[] = [];
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
        updates.push(n.params.uri);
      });
      await client.subscribeResource({ uri: "memory://knowledge-graph/res-proj" });
      // The client opens its event stream on its own; wait until a change made here is heard.
      await until(
        async () => {
          await client.callTool({
            name: "add_observations",
            arguments: {
              namespace: "res-proj",
              observations: [{ entityName: "ResourceDoc", contents: [`local ${Date.now()}`] }],
            },
          });
          return updates.length > 0;
        },
        15_000,
        500,
      );
      const before = updates.length;
      // A change made on the other machine reaches this session too, once it has replicated.
      await until(async () => {
        const r = (await other.callTool({
          name: "open_nodes",
          arguments: { namespace: "res-proj", names: ["ResourceDoc"] },
        })) as ToolResult;
        return (r.structuredContent?.["entities"] as unknown[] | undefined)?.length === 1;
      }, 15_000);
      await other.callTool({
        name: "add_observations",
        arguments: { namespace: "res-proj", observations: [{ entityName: "ResourceDoc", contents: ["from the laptop"] }] },
      });
      await until(async () => updates.length > before, 15_000, 100);
      expect(new Set(updates)).toEqual(new Set(["memory://knowledge-graph/res-proj"]));
    } finally {
      await Promise.all([client.close(), other.close()]);
    }
  });

  it("MCP: a plain tools/call (the fast path) answers exactly as the SDK's server answers the same call in a batch", async () => {
    const post = async (body: unknown) => {
      const res = await fetch(desk.url("bridge", "/mcp"), {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
      return res.json();
    };
    const entity = { name: "Fast", entityType: "path", observations: ["same answer"] };
    const create = { name: "create_entities", arguments: { namespace: "fast-path", entities: [entity] } };
    await post({ jsonrpc: "2.0", id: 0, method: "tools/call", params: create });
    // Calls whose answer is the same the second time, so both paths can make each one.
    const calls: [string, Record<string, unknown>][] = [
      [create.name, create.arguments],
      ["search_nodes", { namespace: "fast-path", query: "same" }],
      ["open_nodes", { namespace: "fast-path", names: ["Fast", "Missing"] }],
      ["add_observations", { namespace: "fast-path", observations: [{ entityName: "Nobody", contents: ["x"] }] }],
      ["search_nodes", { namespace: "fast-path", query: "" }],
      ["create_entities", { entities: "not a list" }],
      ["read_messages", { limit: 100000 }],
    ];
    for (const [i, [name, args]] of calls.entries()) {
      const message = { jsonrpc: "2.0", id: i + 1, method: "tools/call", params: { name, arguments: args } };
      const fast = (await post(message)) as { result: unknown };
      // A batch is not the fast path's: the SDK's server answers it (a batch of one, unwrapped).
      const viaSdk = (await post([message])) as unknown;
      expect(fast).toEqual(Array.isArray(viaSdk) ? viaSdk[0] : viaSdk);
    }
  });
});
