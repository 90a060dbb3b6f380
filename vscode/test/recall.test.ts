import { describe, expect, it } from "vitest";
import { McpClient } from "../src/mcp";
import { MEMORY_LIMITS } from "../src/limits";
import { formatScore, hitDocument, hitInsertText, hitsOf, insertionTarget, keywords, pickItem, recall } from "../src/recall";

/** A stand-in MCP server with the given tools; tools/call answers from `call`. */
function server(tools: string[], call: (name: string, args: Record<string, unknown>) => unknown) {
  const calls: { name: string; args: Record<string, unknown> }[] = [];
  const fetchImpl = async (_u: string, init?: RequestInit) => {
    const m = JSON.parse(String(init?.body)) as {
      id: number;
      method: string;
      params: { name: string; arguments: Record<string, unknown> };
    };
    let result: unknown;
    if (m.method === "tools/list") result = { tools: tools.map((name) => ({ name })) };
    else {
      calls.push({ name: m.params.name, args: m.params.arguments });
      result = { content: [{ type: "text", text: "" }], structuredContent: call(m.params.name, m.params.arguments) };
    }
    return new Response(JSON.stringify({ jsonrpc: "2.0", id: m.id, result }), {
      headers: { "content-type": "application/json" },
    });
  };
  return { mcp: new McpClient("http://x/mcp", fetchImpl), calls };
}

const GRAPH = [
  { name: "Signing", entityType: "decision", observations: ["Cells sign requests with Ed25519"] },
  { name: "Relay", entityType: "component", observations: ["The relay never dials a cell", "It holds ciphertext only"] },
];
/** search_nodes' rule: the query as a substring of a name, type or observation, ignoring case. */
const searchNodes = (q: string) => ({
  entities: GRAPH.filter((e) => [e.name, e.entityType, ...e.observations].some((s) => s.toLowerCase().includes(q.toLowerCase()))),
  relations: [],
});

describe("recall", () => {
  it("uses the memory's recall tool when the stack has one", async () => {
    const s = server(["search_nodes", "recall"], () => ({
      results: [
        {
          name: "Relay",
          entityType: "component",
          score: 0.91,
          observations: ["The relay never dials a cell"],
          signals: ["semantic"],
        },
      ],
    }));
    const a = await recall(s.mcp, "who connects to whom?", "proj", 5);
    expect(a).toEqual({
      via: "recall",
      hits: [
        {
          name: "Relay",
          entityType: "component",
          score: 0.91,
          observations: ["The relay never dials a cell"],
          foundBy: ["semantic"],
        },
      ],
    });
    expect(s.calls).toEqual([{ name: "recall", args: { query: "who connects to whom?", namespace: "proj", limit: 5 } }]);
  });

  it("without recall, searches the whole question, then its words, ranked by words found, and says so", async () => {
    const s = server(["search_nodes"], (_n, args) => searchNodes(String(args["query"])));
    const a = await recall(s.mcp, "Does a cell dial the relay?", undefined);
    expect(a.via).toBe("search_nodes");
    expect(a.note).toMatch(/no recall yet.*search_nodes/);
    expect(a.hits.map((h) => [h.name, h.foundBy])).toEqual([
      ["Relay", ["3 of 3 words"]],
      ["Signing", ["1 of 3 words"]],
    ]);
    expect(s.calls.map((c) => c.args["query"])).toEqual(["Does a cell dial the relay?", "cell", "dial", "relay"]);
    expect(s.calls.every((c) => !("namespace" in c.args))).toBe(true);

    const exact = await recall(s.mcp, "ciphertext", "ns");
    expect(exact.hits.map((h) => h.name)).toEqual(["Relay"]);
    expect(exact.hits[0]!.foundBy).toEqual(["the whole question"]);
  });

  it("without recall, a question longer than search_nodes takes is searched by its words only", async () => {
    const s = server(["search_nodes"], (_n, args) => searchNodes(String(args["query"])));
    const question = `Does the relay hold ciphertext? ${"Background. ".repeat(50)}`.trim();
    expect(question.length).toBeGreaterThan(MEMORY_LIMITS.searchQuery);
    const a = await recall(s.mcp, question, undefined);
    expect(a.hits.map((h) => h.name)).toEqual(["Relay"]);
    expect(s.calls.map((c) => c.args["query"])).toEqual(["relay", "hold", "ciphertext", "background"]);
  });

  it("a small score keeps two significant digits instead of reading as 0.00", () => {
    expect(formatScore(0.912, 2)).toBe("0.91");
    expect(formatScore(0.0164, 2)).toBe("0.016");
    expect(formatScore(0.00321, 3)).toBe("0.0032");
    expect(formatScore(0, 2)).toBe("0.00");
    expect(pickItem({ name: "R", observations: [], score: 0.0049 }).description).toBe("score 0.0049");
    expect(pickItem({ name: "K", observations: [], score: 0, foundBy: ["keyword"] }).description).toBe("matched keyword");
  });

  it("inserts where it started while that editor is open, else into the active one, else nowhere", () => {
    const [started, other] = ["started", "other"];
    expect(insertionTarget(started, [started, other], other)).toEqual({ editor: started, moved: false });
    expect(insertionTarget(started, [other], other)).toEqual({ editor: other, moved: true });
    expect(insertionTarget(undefined, [other], other)).toEqual({ editor: other, moved: false });
    expect(insertionTarget(started, [], undefined)).toBeUndefined();
  });

  it("reads the ranked list whatever the recall answer calls it, with the entity inline or nested", () => {
    expect(
      hitsOf({
        entities: [{ entity: { name: "A", entityType: "t", namespace: "n" }, score: 0.5, best_observations: [{ content: "x" }] }],
      }),
    ).toEqual([{ name: "A", entityType: "t", namespace: "n", score: 0.5, observations: ["x"] }]);
    expect(hitsOf({ hits: [{ name: "B", observations: ["y"], found_by: { keyword: 0.2, semantic: 0.7 } }] })).toEqual([
      { name: "B", observations: ["y"], foundBy: ["keyword", "semantic"] },
    ]);
    expect(hitsOf({ results: [{ nope: 1 }, null, "x"] })).toEqual([]);
    expect(hitsOf("text")).toEqual([]);
  });

  it("question words: no stop words, nothing shorter than three letters, no repeats, six at most", () => {
    expect(keywords("What is the relay, and what does the relay hold?")).toEqual(["relay", "hold"]);
    expect(keywords("one two three four five six seven eight")).toHaveLength(6);
  });

  it("shapes a result for the quick pick, the read-only document and the insertion", () => {
    const hit = {
      name: "Relay",
      entityType: "component",
      score: 0.912,
      observations: ["The relay\n never dials", "ciphertext"],
      foundBy: ["semantic"],
    };
    expect(pickItem(hit)).toEqual({ label: "Relay", description: "component · score 0.91", detail: "The relay never dials" });
    expect(pickItem({ name: "X", observations: [], foundBy: ["2 of 3 words"] })).toEqual({
      label: "X",
      description: "matched 2 of 3 words",
      detail: "(no observations)",
    });
    expect(pickItem({ name: "L", observations: ["z".repeat(500)] }).detail).toHaveLength(200);
    const doc = hitDocument(hit, "who dials?", "recall");
    expect(doc).toContain("# Relay");
    expect(doc).toContain("score 0.912");
    expect(doc).toContain("- The relay\n   never dials\n- ciphertext");
    expect(hitInsertText(hit)).toBe("The relay\n never dials\nciphertext");
  });
});
