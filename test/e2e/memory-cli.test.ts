/**
 * `aios import` / `aios export` against a real stack, and compatibility with
 * the real reference memory server (@modelcontextprotocol/server-memory):
 * its memory file imports into a cell with the same read_graph, and a cell's
 * export loads into the reference with the same read_graph.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReferenceMemory } from "../../harness/reference-memory";
import { chunkLines } from "../../launcher/memory-cli";
import type { Entity, Graph, Relation } from "../../lib/graph-types";
import { parseMemoryJsonl, type ImportCounts as Counts } from "../../lib/memory-jsonl";
import { ROOT, TestStack } from "../../harness/stack";

const IP = "127.0.42.1";
const UNREACHABLE = "http://127.0.42.9:8000";
/** An empty folder to run the CLI in (no .env there). */
const CWD = mkdtempSync(path.join(os.tmpdir(), "aios-cli-cwd-"));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/aios.mjs <args>` as a user would, with only the AIOS_* variables given; bounded. */
function cli(args: string[], env: Record<string, string> = {}, cwd = CWD): Promise<Run> {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(AIOS_|VAULT_TOKEN$)/.test(k)) clean[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "bin", "aios.mjs"), ...args], {
      cwd,
      env: { ...clean, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const entityLine = (e: Entity) =>
  JSON.stringify({ type: "entity", name: e.name, entityType: e.entityType, observations: e.observations });
const relationLine = (r: Relation) => JSON.stringify({ type: "relation", from: r.from, to: r.to, relationType: r.relationType });
/** As the reference's saveGraph writes it: lines joined by "\n", no newline at the end. */
const referenceFile = (g: Graph) => [...g.entities.map(entityLine), ...g.relations.map(relationLine)].join("\n");

function load(text: string): Graph {
  const parsed = parseMemoryJsonl(text);
  if (!parsed.ok) throw new Error(`line ${parsed.line}: ${parsed.error}`);
  return { entities: parsed.entities, relations: parsed.relations };
}

/** Order-free form: the cell lists entities by name, the reference in file order. */
function canonical(g: Graph): Graph {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return {
    entities: g.entities
      .map((e) => ({ name: e.name, entityType: e.entityType, observations: [...e.observations].sort() }))
      .sort((a, b) => cmp(a.name, b.name)),
    relations: g.relations
      .map((r) => ({ from: r.from, to: r.to, relationType: r.relationType }))
      .sort((a, b) => cmp(JSON.stringify([a.from, a.to, a.relationType]), JSON.stringify([b.from, b.to, b.relationType]))),
  };
}

const SAMPLE: Graph = {
  entities: [
    { name: "AuthService", entityType: "service", observations: ["uses JWT", "tokens expire after 1h"] },
    { name: "UserDB", entityType: "database", observations: ["PostgreSQL 16"] },
    { name: "Ada Lovelace", entityType: "person", observations: ['writes "notes"', "ünïcödé ✓"] },
    { name: "Empty", entityType: "thing", observations: [] },
  ],
  relations: [
    { from: "AuthService", to: "UserDB", relationType: "reads from" },
    { from: "Ada Lovelace", to: "AuthService", relationType: "maintains" },
  ],
};

describe("aios import / aios export", () => {
  let s: TestStack;
  let work: string;
  /** What the CLI needs to find the stack by itself: where it listens and its data folder (for the token). */
  let env: Record<string, string>;

  beforeAll(async () => {
    // No AIOS_API_TOKEN: the stack generates one into its data folder, where the CLI finds it.
    s = await TestStack.start({ ip: IP, cellId: "memory-cli" });
    work = mkdtempSync(path.join(os.tmpdir(), "aios-memory-cli-"));
    env = { AIOS_HOST: IP, AIOS_DATA_DIR: path.join(s.dir, "data") };
  });
  afterAll(async () => {
    await s?.stop();
  });

  const graphOf = async (ns: string) => (await (await s.api(`/memory/read_graph?namespace=${ns}`)).json()) as Graph;

  it("imports a reference-style file and exports the same graph, finding the cell and its token by itself", async () => {
    const file = path.join(work, "memory.jsonl");
    writeFileSync(file, referenceFile(SAMPLE));
    const imported = await cli(["import", file, "--namespace", "myapp", "--json"], env);
    expect(imported.stderr).toBe("");
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toEqual({
      namespace: "myapp",
      imported: { entities: 4, observations: 5, relations: 2 },
      skipped: { entities: 0, observations: 0, relations: 0 },
      lines: 6,
    });
    expect(canonical(await graphOf("myapp"))).toEqual(canonical(SAMPLE));

    const out = path.join(work, "exported.jsonl");
    const exported = await cli(["export", "--namespace", "myapp", "--out", out], env);
    expect(exported.code).toBe(0);
    expect(exported.stdout.trim()).toBe(`aios: exported 4 entities and 2 relations from namespace "myapp" to ${out}`);
    const text = readFileSync(out, "utf8");
    expect(canonical(load(text))).toEqual(canonical(SAMPLE));
    expect(text.split("\n").filter(Boolean)).toHaveLength(6);

    // Without --out the file goes to stdout (the summary to stderr), so `aios export > file` works.
    const toStdout = await cli(["export", "--namespace", "myapp"], env);
    expect(toStdout.code).toBe(0);
    expect(toStdout.stdout).toBe(text);
    expect(toStdout.stderr).toMatch(/exported 4 entities and 2 relations/);

    // Importing again changes nothing; the human summary says so.
    const again = await cli(["import", file, "--namespace", "myapp"], env);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe(
      'aios: imported 0 entities, 0 observations, 0 relations into namespace "myapp" ' +
        "(skipped as already there: 4 entities, 5 observations, 2 relations)",
    );
  });

  it("takes --url and --token explicitly, and the default namespace without --namespace", async () => {
    const file = path.join(work, "one.jsonl");
    writeFileSync(file, entityLine({ name: "OnlyInDefault", entityType: "marker", observations: ["x"] }) + "\n");
    const r = await cli(["import", file, "--url", s.url("cell"), "--token", s.token, "--json"]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { namespace: string }).namespace).toBe("default");
    expect((await graphOf("default")).entities.map((e) => e.name)).toContain("OnlyInDefault");
  });

  it("fails with one clear line and a non-zero exit; a bad line imports nothing", async () => {
    const bad = path.join(work, "bad.jsonl");
    writeFileSync(bad, [entityLine(SAMPLE.entities[0]!), "", '{"type":"entity","name":"NoType","observations":[]}'].join("\n"));
    const r = await cli(["import", bad, "--namespace", "badfile"], env);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^aios import: .*bad\.jsonl: line 3: entity: entityType: .*; nothing was imported\n$/);
    expect((await graphOf("badfile")).entities).toEqual([]);

    const missing = await cli(["import", path.join(work, "nope.jsonl")], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^aios import: cannot read .*nope\.jsonl: no such file\n$/);

    const file = path.join(work, "memory.jsonl");
    const wrongToken = await cli(["import", file, "--token", "not-the-token"], env);
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toMatch(/^aios import: the cell answered 401: invalid API token \(check --token.*\)\n$/);

    const down = await cli(["export", "--url", UNREACHABLE, "--token", "x"]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(
      /^aios export: cannot reach the cell at http:\/\/127\.0\.42\.9:8000 \(ECONNREFUSED\); is the stack running/,
    );

    const noToken = await cli(["export"], { AIOS_HOST: IP, AIOS_DATA_DIR: path.join(work, "no-data") });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/^aios export: no API token: pass --token, set AIOS_API_TOKEN, or start the stack once/);

    const usage = await cli(["import"], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^aios import: expected one file to import; usage: aios import <file.jsonl>/);
    const unknown = await cli(["export", "--bogus"], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split("\n")).toHaveLength(1);

    const badNs = await cli(["export", "--namespace", "no/slashes"], env);
    expect(badNs.code).toBe(1);
    expect(badNs.stderr).toMatch(/^aios export: the cell answered 400: invalid query parameters: namespace/);
  });

  it("splits big files into several requests and oversized entities into continuation lines, counting them right", async () => {
    const big: Graph = { entities: [], relations: [] };
    for (let i = 0; i < 300; i++)
      big.entities.push({ name: `n${i}`, entityType: "node", observations: [`about n${i} `.repeat(20)] });
    big.entities[5]!.observations = Array.from({ length: 400 }, (_, k) => `fact ${k} `.repeat(10));
    for (let i = 0; i < 299; i++) big.relations.push({ from: `n${i}`, to: `n${i + 1}`, relationType: "next" });
    const { bodies, continuations } = chunkLines(big.entities, big.relations, 64 * 1024);
    expect(bodies.length).toBeGreaterThan(1);
    expect(continuations).toBeGreaterThan(0);
    for (const b of bodies) expect(Buffer.byteLength(b)).toBeLessThanOrEqual(64 * 1024);
    // The pieces, imported one request each as the CLI does, give the whole graph…
    const total: { imported: Counts; skipped: Counts } = {
      imported: { entities: 0, observations: 0, relations: 0 },
      skipped: { entities: -continuations, observations: 0, relations: 0 },
    };
    for (const body of bodies) {
      const res = await s.api("/memory/import?namespace=big", {
        method: "POST",
        body,
        headers: { "content-type": "application/x-ndjson" },
      });
      expect(res.status).toBe(200);
      const a = (await res.json()) as { imported: Counts; skipped: Counts };
      for (const k of ["entities", "observations", "relations"] as const) {
        total.imported[k] += a.imported[k];
        total.skipped[k] += a.skipped[k];
      }
    }
    // …and the counts the CLI reports are the file's own.
    expect(total).toEqual({
      imported: { entities: 300, observations: 299 + 400, relations: 299 },
      skipped: { entities: 0, observations: 0, relations: 0 },
    });
    expect(canonical(await graphOf("big"))).toEqual(canonical(big));
  });

  it("is compatible with the real reference memory server in both directions", async () => {
    // 1. Build a memory with the reference server itself, over MCP (stdio), as an assistant would.
    const refFile = path.join(work, "reference-memory.jsonl");
    const ref = await startReferenceMemory(ROOT, refFile);
    let refGraph: Graph;
    try {
      await ref.call("create_entities", {
        entities: [
          { name: "PaymentsAPI", entityType: "service", observations: ["written in Go", "owned by team Blue"] },
          { name: "Ledger", entityType: "database", observations: ["append-only"] },
          { name: "Grace", entityType: "person", observations: ["on call this week"] },
          { name: "Scratch", entityType: "note", observations: ["to be deleted"] },
        ],
      });
      await ref.call("create_relations", {
        relations: [
          { from: "PaymentsAPI", to: "Ledger", relationType: "writes to" },
          { from: "Grace", to: "PaymentsAPI", relationType: "maintains" },
          { from: "Scratch", to: "Ledger", relationType: "mentions" },
        ],
      });
      await ref.call("add_observations", {
        observations: [{ entityName: "PaymentsAPI", contents: ["retries with backoff", "p99 latency 120 ms"] }],
      });
      await ref.call("delete_entities", { entityNames: ["Scratch"] });
      await ref.call("delete_observations", { deletions: [{ entityName: "Grace", observations: ["on call this week"] }] });
      refGraph = (await ref.call("read_graph", {})) as Graph;
    } finally {
      await ref.close();
    }
    expect(refGraph.entities.map((e) => e.name)).toEqual(["PaymentsAPI", "Ledger", "Grace"]);

    // 2. Import the reference's own file into a cell: the cell's read_graph is the reference's.
    const r = await cli(["import", refFile, "--namespace", "reference", "--json"], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ imported: { entities: 3, observations: 5, relations: 2 } });
    expect(canonical(await graphOf("reference"))).toEqual(canonical(refGraph));

    // 3. The cell's export, given to the reference server as its memory file, reads back the same.
    const out = path.join(work, "from-cell.jsonl");
    expect((await cli(["export", "--namespace", "reference", "--out", out], env)).code).toBe(0);
    const back = await startReferenceMemory(ROOT, out);
    try {
      expect(canonical((await back.call("read_graph", {})) as Graph)).toEqual(canonical(refGraph));
      // And the reference keeps working on it (a write makes it rewrite the file).
      await back.call("add_observations", { observations: [{ entityName: "Ledger", contents: ["backed up hourly"] }] });
    } finally {
      await back.close();
    }
    expect(load(readFileSync(out, "utf8")).entities.find((e) => e.name === "Ledger")?.observations).toEqual([
      "append-only",
      "backed up hourly",
    ]);
  });
});
