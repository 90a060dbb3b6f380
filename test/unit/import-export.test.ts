/** Memory import/export in the reference memory server's JSONL format (GET /memory/export, POST /memory/import). */
import { SELF } from "cloudflare:test";
import type { Entity, Graph, Relation } from "../../lib/graph-types";
import type { ImportResult as ImportAnswer } from "../../lib/memory-jsonl";
import { describe, expect, it } from "vitest";
import { freshNamespace, ok, TOKEN } from "./helpers";

const entityLine = (e: Entity) =>
  JSON.stringify({ type: "entity", name: e.name, entityType: e.entityType, observations: e.observations });
const relationLine = (r: Relation) => JSON.stringify({ type: "relation", from: r.from, to: r.to, relationType: r.relationType });
const jsonl = (g: Graph) => [...g.entities.map(entityLine), ...g.relations.map(relationLine)].join("\n");

function postImport(ns: string | undefined, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(`http://cell.test/memory/import${ns ? `?namespace=${ns}` : ""}`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/x-ndjson", ...headers },
    body,
  });
}

async function importOk(ns: string, body: string): Promise<ImportAnswer> {
  const res = await postImport(ns, body);
  if (!res.ok) throw new Error(`import answered ${res.status}: ${await res.text()}`);
  return res.json<ImportAnswer>();
}

async function exportText(ns: string): Promise<string> {
  const res = await SELF.fetch(`http://cell.test/memory/export?namespace=${ns}`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
  return new TextDecoder().decode(await res.arrayBuffer());
}

/** The file as a graph, as the reference server's loadGraph reads it. */
function load(text: string): Graph {
  const g: Graph = { entities: [], relations: [] };
  for (const line of text.split("\n").filter((l) => l.trim() !== "")) {
    const item = JSON.parse(line) as { type: string } & Entity & Relation;
    if (item.type === "entity")
      g.entities.push({ name: item.name, entityType: item.entityType, observations: item.observations });
    if (item.type === "relation") g.relations.push({ from: item.from, to: item.to, relationType: item.relationType });
  }
  return g;
}

/** Order-free form for comparing graphs (the cell lists entities by name; the reference in file order). */
function canonical(g: Graph): Graph {
  return {
    entities: g.entities
      .map((e) => ({ ...e, observations: [...e.observations].sort() }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    relations: [...g.relations].sort((a, b) => {
      const x = JSON.stringify([a.from, a.to, a.relationType]);
      const y = JSON.stringify([b.from, b.to, b.relationType]);
      return x < y ? -1 : x > y ? 1 : 0;
    }),
  };
}

const SAMPLE: Graph = {
  entities: [
    { name: "UserDB", entityType: "database", observations: ["PostgreSQL 16", "holds sessions"] },
    {
      name: "AuthService",
      entityType: "service",
      observations: ["uses JWT", 'quotes " and \\ backslashes', "a line\nbreak", "ünïcödé ✓ 日本語"],
    },
    { name: "Alice", entityType: "person", observations: [] },
  ],
  relations: [
    { from: "AuthService", to: "UserDB", relationType: "reads from" },
    { from: "Alice", to: "AuthService", relationType: "maintains" },
    // The reference allows relations to entities it does not know.
    { from: "Alice", to: "Nobody", relationType: "knows" },
  ],
};

describe("memory import/export (reference JSONL)", () => {
  it("round trip: import then export gives the same graph, in the reference's line format", async () => {
    const ns = freshNamespace();
    const r = await importOk(ns, jsonl(SAMPLE) + "\n");
    expect(r).toEqual({
      namespace: ns,
      imported: { entities: 3, observations: 6, relations: 3 },
      skipped: { entities: 0, observations: 0, relations: 0 },
      lines: 6,
    });
    const text = await exportText(ns);
    expect(canonical(load(text))).toEqual(canonical(SAMPLE));
    // Exactly the reference's shape: entities first, then relations, keys in its order, one per line.
    const lines = text.split("\n");
    expect(lines.at(-1)).toBe("");
    expect(lines.slice(0, 3).every((l) => l.startsWith('{"type":"entity","name":'))).toBe(true);
    expect(lines.slice(3, 6).every((l) => l.startsWith('{"type":"relation","from":'))).toBe(true);
    for (const l of lines.slice(0, -1)) {
      const item = JSON.parse(l) as Record<string, unknown>;
      expect(Object.keys(item)).toEqual(
        item["type"] === "entity" ? ["type", "name", "entityType", "observations"] : ["type", "from", "to", "relationType"],
      );
    }
    // The export is what read_graph holds.
    const graph = await ok<Graph>(`/memory/read_graph?namespace=${ns}`);
    expect(canonical(load(text))).toEqual(canonical(graph));
    // And re-importing the export into a fresh namespace reproduces it.
    const ns2 = freshNamespace();
    await importOk(ns2, text);
    const again = await exportText(ns2);
    expect(again.split("\n").length).toBe(lines.length);
    expect(canonical(load(again))).toEqual(canonical(load(text)));
  });

  it("imports files larger than one batch (1,500 entities, one with 2,500 observations, 3 MB)", async () => {
    const ns = freshNamespace();
    const g: Graph = { entities: [], relations: [] };
    for (let i = 0; i < 1500; i++) g.entities.push({ name: `e${i}`, entityType: "thing", observations: [`obs of e${i}`] });
    g.entities[7]!.observations = Array.from({ length: 2500 }, (_, k) => `big observation ${k} ${"x".repeat(1200)}`);
    for (let i = 0; i < 1200; i++) g.relations.push({ from: `e${i}`, to: `e${i + 1}`, relationType: "next" });
    const r = await importOk(ns, jsonl(g));
    expect(r.imported).toEqual({ entities: 1500, observations: 1499 + 2500, relations: 1200 });
    expect(canonical(load(await exportText(ns)))).toEqual(canonical(g));
    // Importing the same file again changes nothing and says so.
    const again = await importOk(ns, jsonl(g));
    expect(again.imported).toEqual({ entities: 0, observations: 0, relations: 0 });
    expect(again.skipped).toEqual({ entities: 1500, observations: 1499 + 2500, relations: 1200 });
  });

  it("existing entities keep their type and gain only the observations they lack; repeated lines merge", async () => {
    const ns = freshNamespace();
    await ok("/memory/create_entities", {
      namespace: ns,
      entities: [{ name: "AuthService", entityType: "component", observations: ["uses JWT"] }],
    });
    await ok("/memory/create_relations", {
      namespace: ns,
      relations: [{ from: "AuthService", to: "UserDB", relationType: "reads from" }],
    });
    const file = [
      ...SAMPLE.entities.map(entityLine),
      entityLine({ name: "UserDB", entityType: "other", observations: ["holds sessions", "backed up nightly"] }),
      ...SAMPLE.relations.map(relationLine),
      relationLine(SAMPLE.relations[1]!),
    ].join("\n");
    const r = await importOk(ns, file);
    expect(r.imported).toEqual({ entities: 2, observations: 2 + 3 + 1, relations: 2 });
    expect(r.skipped).toEqual({ entities: 2, observations: 2, relations: 2 });
    const g = await ok<Graph>(`/memory/read_graph?namespace=${ns}`);
    const auth = g.entities.find((e) => e.name === "AuthService")!;
    expect(auth.entityType).toBe("component");
    expect([...auth.observations].sort()).toEqual([...SAMPLE.entities[1]!.observations].sort());
    const db = g.entities.find((e) => e.name === "UserDB")!;
    expect(db.entityType).toBe("database");
    expect(db.observations).toEqual(["PostgreSQL 16", "holds sessions", "backed up nightly"]);
  });

  it("a bad line is refused with its number and the problem, and nothing is imported", async () => {
    const good = jsonl(SAMPLE).split("\n");
    const cases: [string[], number, RegExp][] = [
      [[good[0]!, "", good[1]!, "{not json", good[2]!], 4, /not valid JSON/],
      [[good[0]!, '{"type":"entity","name":"X","observations":[]}'], 2, /entityType/],
      [[good[0]!, good[1]!, '{"type":"person","name":"X"}'], 3, /"type" must be "entity" or "relation"/],
      [[good[0]!, '{"type":"entity","name":"X","entityType":"t","observations":"one"}'], 2, /observations/],
      [[good[0]!, '{"type":"relation","from":"A","to":"","relationType":"r"}'], 2, /to: to must not be empty/],
      [["\r", good[0]!, "[1,2]"], 3, /expected a JSON object/],
      [[`{"type":"entity","name":"${"n".repeat(300)}","entityType":"t","observations":[]}`], 1, /name is longer than 256/],
    ];
    for (const [lines, at, why] of cases) {
      const ns = freshNamespace();
      const res = await postImport(ns, lines.join("\n"));
      expect(res.status).toBe(400);
      const body = await res.json<{ error: string; line: number }>();
      expect(body.line).toBe(at);
      expect(body.error).toMatch(new RegExp(`^line ${at}: `));
      expect(body.error).toMatch(why);
      expect(body.error).toMatch(/nothing was imported/);
      expect(await exportText(ns)).toBe("");
      const { namespaces } = await ok<{ namespaces: string[] }>("/memory");
      expect(namespaces).not.toContain(ns);
    }
    // Newlines stripped on the way (curl -d @file): the error says so.
    const squashed = await postImport(freshNamespace(), good.join(""));
    expect(squashed.status).toBe(400);
    expect((await squashed.json<{ error: string }>()).error).toMatch(/^line 1: .*--data-binary/);
  });

  it("namespaces stay apart", async () => {
    const [a, b] = [freshNamespace(), freshNamespace()];
    await importOk(a, jsonl(SAMPLE));
    const other: Graph = {
      entities: [{ name: "AuthService", entityType: "legacy", observations: ["only in b"] }],
      relations: [{ from: "AuthService", to: "Mainframe", relationType: "calls" }],
    };
    await importOk(b, jsonl(other));
    expect(canonical(load(await exportText(a)))).toEqual(canonical(SAMPLE));
    expect(canonical(load(await exportText(b)))).toEqual(canonical(other));
  });

  it("defaults to the default namespace; CRLF line ends and a BOM are fine; empty input imports nothing", async () => {
    const ns = freshNamespace();
    const r = await importOk(ns, "\ufeff" + jsonl(SAMPLE).split("\n").join("\r\n") + "\r\n");
    expect(r.imported.entities).toBe(3);
    const empty = await importOk(freshNamespace(), "\n\n");
    expect(empty.imported).toEqual({ entities: 0, observations: 0, relations: 0 });
    const noNs = await postImport(undefined, entityLine({ name: `d-${ns}`, entityType: "t", observations: [] }));
    expect(((await noNs.json()) as ImportAnswer).namespace).toBe("default");
  });

  it("refuses without the token, a bad namespace, a form upload, wrong methods and too-large bodies", async () => {
    const noToken = await SELF.fetch("http://cell.test/memory/export?namespace=x");
    expect(noToken.status).toBe(401);
    const noTokenImport = await SELF.fetch("http://cell.test/memory/import", { method: "POST", body: "" });
    expect(noTokenImport.status).toBe(401);
    const badNs = await postImport("../etc", jsonl(SAMPLE));
    expect(badNs.status).toBe(400);
    expect((await badNs.json<{ error: string }>()).error).toMatch(/namespace/);
    const form = await postImport(freshNamespace(), "x", { "content-type": "multipart/form-data; boundary=x" });
    expect(form.status).toBe(415);
    const wrong = await SELF.fetch("http://cell.test/memory/export", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET");
    const wrong2 = await SELF.fetch("http://cell.test/memory/import", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(wrong2.status).toBe(405);
    const big = await postImport(freshNamespace(), "\n".repeat(16 * 1024 * 1024 + 1));
    expect(big.status).toBe(413);
  });
});
