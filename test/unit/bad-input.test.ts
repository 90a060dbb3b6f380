/** Bad input gets a 4xx naming the problem, never a 5xx, and never changes stored data. */
import { describe, expect, it } from "vitest";
import { call, freshNamespace, ok } from "./helpers";

const long = (n: number) => "x".repeat(n);

const CASES: [string, string, unknown, RegExp][] = [
  ["POST", "/memory/create_entities", "{not json", /not valid JSON/],
  ["POST", "/memory/create_entities", "", /empty/],
  ["POST", "/memory/create_entities", "[]", /invalid body/],
  ["POST", "/memory/create_entities", { entities: "Alice" }, /entities/],
  ["POST", "/memory/create_entities", { entities: [{ name: "", entityType: "t" }] }, /name must not be empty/],
  ["POST", "/memory/create_entities", { entities: [{ name: long(257), entityType: "t" }] }, /name is longer than 256/],
  ["POST", "/memory/create_entities", { entities: [{ name: "a", entityType: "t", observations: [42] }] }, /observation/],
  ["POST", "/memory/create_entities", { entities: [{ name: "a" }] }, /entityType/],
  ["POST", "/memory/create_entities", { namespace: "../etc", entities: [] }, /namespace/],
  [
    "POST",
    "/memory/create_entities",
    { entities: Array.from({ length: 1001 }, (_, i) => ({ name: `e${i}`, entityType: "t" })) },
    /at most 1000/,
  ],
  ["POST", "/memory/add_observations", { observations: [{ entityName: "a", contents: "not a list" }] }, /contents/],
  ["POST", "/memory/create_relations", { relations: [{ from: "a", to: "b" }] }, /relationType/],
  ["POST", "/memory/search_nodes", { query: "" }, /query must not be empty/],
  ["GET", "/memory/search_nodes?query=abc&limit=0", undefined, /limit/],
  ["GET", "/memory/search_nodes?query=abc&limit=lots", undefined, /limit/],
  ["POST", "/memory/no_such_op", {}, /unknown memory operation/],
  ["GET", "/memory/create_entities", undefined, /use POST/],
  ["POST", "/message", {}, /content/],
  ["POST", "/message", { content: "x", priority: "extreme" }, /priority/],
  ["POST", "/message", { content: "x", metadata: "flat" }, /metadata/],
  ["GET", "/messages?limit=-1", undefined, /limit/],
  ["GET", "/messages?limit=100000", undefined, /limit/],
  ["PUT", "/context", { selection: { start_line: "one" } }, /selection/],
  ["PUT", "/context", { note: long(9000) }, /note/],
  ["PUT", "/context", "null", /invalid body/],
  ["POST", "/sync-consciousness", { level: 2 }, /level must be in \[0, 1\]/],
  ["POST", "/sync-consciousness", { level: "high" }, /level must be a number/],
  ["POST", "/sync-consciousness", {}, /level/],
];

describe("bad input", () => {
  it.each(CASES)("%s %s → 4xx naming the problem", async (method, path, body, message) => {
    const ns = freshNamespace();
    await ok("/memory/create_entities", { namespace: ns, entities: [{ name: "Keep", entityType: "t", observations: ["safe"] }] });
    const before = await ok(`/memory/read_graph?namespace=${ns}`);
    const messagesBefore = (await ok<{ total: number }>("/messages")).total;
    const res = await call(path, body, method);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    const err = await res.json<{ error: string }>();
    expect(err.error).toMatch(message);
    expect(await ok(`/memory/read_graph?namespace=${ns}`)).toEqual(before);
    expect((await ok<{ total: number }>("/messages")).total).toBe(messagesBefore);
  });

  it("a body over the size limit gets 413", async () => {
    const res = await call("/memory/create_entities", JSON.stringify({ entities: [], pad: long(1024 * 1024 + 10) }));
    expect(res.status).toBe(413);
    expect((await res.json<{ error: string }>()).error).toMatch(/larger than the limit/);
  });

  it("a non-JSON content type gets 415", async () => {
    const { SELF } = await import("cloudflare:test");
    const r = await SELF.fetch("http://cell.test/message", {
      method: "POST",
      headers: { authorization: "Bearer unit-token", "content-type": "application/x-www-form-urlencoded" },
      body: "content=x",
    });
    expect(r.status).toBe(415);
  });

  it("deeply nested JSON is refused cleanly", async () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    const res = await call("/memory/create_entities", deep);
    expect(res.status).toBe(400);
  });

  it("a refused batch changes nothing, even when its first half was valid", async () => {
    const ns = freshNamespace();
    await ok("/memory/create_entities", { namespace: ns, entities: [{ name: "A", entityType: "t" }] });
    const bad = await call("/memory/add_observations", {
      namespace: ns,
      observations: [
        { entityName: "A", contents: ["first half"] },
        { entityName: "Missing", contents: ["second half"] },
      ],
    });
    expect(bad.status).toBe(404);
    const g = await ok<{ entities: { observations: string[] }[] }>(`/memory/read_graph?namespace=${ns}`);
    expect(g.entities[0]!.observations).toEqual([]);
  });
});
