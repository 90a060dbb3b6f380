/**
 * The VS Code extension's MCP client against the bridge's real /mcp handler
 * and the real cell: remember a selection, then recall it, as the extension's
 * commands do (no VS Code needed for this part).
 */
import { createExecutionContext, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { LIMITS, NamespaceSchema } from "../../lib/graph-types";
import { RECALL_LIMITS } from "../../lib/recall-types";
import type { CellBinding } from "../../lib/rpc";
import { MEMORY_LIMITS } from "../../vscode/src/limits";
import { McpClient, ToolError } from "../../vscode/src/mcp";
import { recall } from "../../vscode/src/recall";
import { NAMESPACE_PATTERN, entityNames, namespaceFromFolder, observationOf, remember } from "../../vscode/src/remember";
import { handleMcp } from "../../workers/bridge/mcp/server";
import { CellEntrypoint } from "../../workers/cell/index";
import { freshNamespace } from "./helpers";

/** The bridge's view of the cell: the cell under test's typed entrypoint, as its service binding gives it. */
const cell = new CellEntrypoint(createExecutionContext(), env) as unknown as CellBinding;

const client = () =>
  new McpClient("http://127.0.0.1:3001/mcp", (url, init) => handleMcp(new Request(url, init), { CELL: cell }), 30_000);

describe("the extension's MCP client and the bridge's /mcp", () => {
  it("lists the bridge's tools", async () => {
    const names = (await client().listTools()).map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining(["search_nodes", "add_observations", "create_entities", "open_nodes", "get_context"]),
    );
  });

  it("every tool's input schema names its dialect, so VS Code can check it without downloading a meta-schema", async () => {
    // VS Code drops a tool whose schema it cannot check; without "$schema" it fetches draft-07 from json-schema.org.
    const tools = (await client().request("tools/list")) as { tools: { name: string; inputSchema: Record<string, unknown> }[] };
    for (const t of tools.tools) expect(t.inputSchema["$schema"], t.name).toBe("http://json-schema.org/draft-07/schema#");
  });

  it("remembers a selection in a new entity, then in the same one, and recalls it", async () => {
    const mcp = client();
    const ns = freshNamespace();
    const first = observationOf("Cells sign every request with Ed25519\n", "lib/signing.ts", 3, 4);
    expect(first).toBe("Cells sign every request with Ed25519\n(from lib/signing.ts:3-4)");
    expect(await remember(mcp, { namespace: ns, entity: "Signing", entityType: "decision", observation: first })).toEqual({
      created: true,
    });
    const second = observationOf("Nonces are never reused", "lib/signing.ts", 9, 9);
    expect(await remember(mcp, { namespace: ns, entity: "Signing", entityType: "ignored", observation: second })).toEqual({
      created: false,
    });
    expect(await entityNames(mcp, ns)).toEqual([{ name: "Signing", entityType: "decision" }]);

    // The stack has recall, so the extension uses it (the search_nodes fallback is tested in vscode/test/recall.test.ts).
    const answer = await recall(mcp, "how do cells sign requests?", ns);
    expect(answer.via).toBe("recall");
    expect(answer.note).toBeUndefined();
    const hit = answer.hits.find((h) => h.name === "Signing");
    expect(hit).toBeDefined();
    // The memory's recall returns the best observations, not necessarily all of them.
    expect(hit!.observations.some((o) => o === first || o === second)).toBe(true);
  });

  it("another namespace does not see it", async () => {
    const mcp = client();
    const ns = freshNamespace();
    await remember(mcp, { namespace: ns, entity: "Only here", entityType: "note", observation: "a unique zebra fact" });
    expect((await recall(mcp, "zebra", freshNamespace())).hits).toEqual([]);
    expect((await recall(mcp, "zebra", ns)).hits.map((h) => h.name)).toEqual(["Only here"]);
  });

  it("a tool's refusal comes back as a ToolError with the tool's message", async () => {
    const err = await client()
      .callTool("add_observations", { namespace: freshNamespace(), observations: [{ entityName: "Nobody", contents: ["x"] }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolError);
    expect((err as Error).message).toMatch(/add_observations: .*Nobody/);
  });
});

describe("what the extension checks before it sends, against the memory's own rules", () => {
  it("its limits are the memory's", () => {
    expect(MEMORY_LIMITS).toEqual({
      observation: LIMITS.observation,
      name: LIMITS.name,
      type: LIMITS.type,
      searchQuery: LIMITS.query,
      recallQuery: RECALL_LIMITS.query,
    });
  });

  it("a namespace made from any folder name is one the memory takes, and its pattern is the memory's", () => {
    for (const folder of ["My Project", "_scratch", ".dotfiles", "Übungen", "日本語", "x".repeat(80), "a/b\\c:d"]) {
      expect(NamespaceSchema.safeParse(namespaceFromFolder(folder)).success, folder).toBe(true);
    }
    for (const ns of ["ok", "a.b_c-d", "-x", "_x", "x y", "z".repeat(64), "z".repeat(65), "ü"]) {
      expect(NAMESPACE_PATTERN.test(ns), ns).toBe(NamespaceSchema.safeParse(ns).success);
    }
  });
});
