/**
 * HTTP throughput and latency on loopback (autocannon) of the cell's `/health`,
 * a knowledge-graph write and a search, against two references measured in the
 * same run on the same workerd build and configuration (compatibility date and
 * flags of the cell's wrangler.toml, direct sockets on a loopback address,
 * Durable Objects persisted to a folder, as the launcher runs the stack):
 *  - a no-op worker answering a constant 200: the runtime's ceiling;
 *  - a worker whose SQLite Durable Object does one plain INSERT per request:
 *    the storage ceiling.
 * Targets and references run interleaved, round by round, so noise from other
 * load on the machine hits all of them alike; each figure is the median of the
 * rounds, each ratio the median of the rounds' ratios.
 *
 * Where the time goes (README "Where the time goes"): the no-op worker costs
 * 35-80 us of workerd CPU per request, depending on the machine. /health
 * measures the level at most once a second (workers/cell/status.ts), so it
 * costs what the shared HTTP shell (lib/app.ts) costs on top; each use of a
 * runtime API there (a response header, a property added to the Request, a
 * class entrypoint per request) was worth several per cent. A write costs
 * 1.2-1.4 ms, about half in the state object and half in the worker (body,
 * validation, the call, the answer); the plain insert is one statement.
 */
import type autocannon from "autocannon";
import { Miniflare, NoOpLog } from "miniflare";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { readWorkerSpecs } from "../launcher/workers";
import { TestStack } from "../harness/stack";
import { report, type Figure } from "./stats";
import { median, percentile } from "../harness/measure";
import { entities, searchQuery } from "./workload";

const ROUNDS = 5;
const SECONDS = 4;
const WARMUP_SECONDS = 1;
const CONNECTIONS = 10;
const ENTITIES = 3000;
const STACK_IP = "127.0.26.1";
const NOOP_IP = "127.0.26.2";
const INSERT_IP = "127.0.26.3";
const PORT = 8000;
const TOKEN = "bench";

const NOOP_SCRIPT = `export default { fetch: () => new Response("ok") };`;

/** One Durable Object, one table, one INSERT of the request body per request (through RPC, as the cell's writes go). */
const INSERT_SCRIPT = `
import { DurableObject } from "cloudflare:workers";
export class Insert extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  }
  insert(body) {
    this.ctx.storage.sql.exec("INSERT INTO rows (body) VALUES (?)", body);
    return true;
  }
}
export default {
  async fetch(request, env) {
    const stub = env.INSERT.get(env.INSERT.idFromName("insert"));
    await stub.insert(await request.text());
    return Response.json({ ok: true });
  },
};`;

interface Sample {
  rps: number;
  p50: number;
  p99: number;
}

type Target = (seconds: number) => Promise<Sample>;

/** One autocannon run; latencies are taken per response (autocannon's own histogram has 1 ms steps). */
async function cannon(name: string, opts: autocannon.Options): Promise<Sample> {
  // Loaded when the benchmark runs (see reference-memory.ts).
  const { default: run } = await import("autocannon");
  const latencies: number[] = [];
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = run({ connections: CONNECTIONS, ...opts }, (err: unknown, result) =>
      err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result),
    );
    instance.on("response", (_client, _status, _bytes, ms) => latencies.push(ms));
  });
  if (r.errors || r.timeouts || r.non2xx) {
    throw new Error(`${name}: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx responses`);
  }
  return { rps: r.requests.average, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

const get =
  (name: string, url: string): Target =>
  (duration) =>
    cannon(name, { url, duration });

/** POSTs whose body `body(n)` differs for every request (a global counter, across connections and runs). */
function post(name: string, url: string, body: (n: number) => unknown, headers: Record<string, string> = {}): Target {
  let n = 0;
  return (duration) =>
    cannon(name, {
      url,
      duration,
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      requests: [{ method: "POST", setupRequest: (req) => ({ ...req, body: JSON.stringify(body(n++)) }) }],
    });
}

/** The references, in one Miniflare built as the launcher builds the stack's (launcher/start.ts). */
async function startReferences(root: string, dir: string): Promise<Miniflare> {
  const cell = readWorkerSpecs(root).find((s) => s.service === "cell")!.config;
  const runtime = { compatibilityDate: cell.compatibility_date, compatibilityFlags: cell.compatibility_flags ?? [] };
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    log: new NoOpLog(),
    durableObjectsPersist: path.join(dir, "durable-objects"),
    workers: [
      {
        name: "bench-noop",
        modules: true,
        script: NOOP_SCRIPT,
        ...runtime,
        unsafeDirectSockets: [{ host: NOOP_IP, port: PORT }],
      },
      {
        name: "bench-insert",
        modules: true,
        script: INSERT_SCRIPT,
        ...runtime,
        durableObjects: { INSERT: { className: "Insert", useSQLite: true } },
        unsafeDirectSockets: [{ host: INSERT_IP, port: PORT }],
      },
    ],
  });
  await mf.ready;
  return mf;
}

export async function benchHttp(root: string): Promise<Figure[]> {
  const stack = await TestStack.start({ ip: STACK_IP, env: { AIOS_API_TOKEN: TOKEN, AIOS_LOG_LEVEL: "warn" } });
  const refDir = mkdtempSync(path.join(os.tmpdir(), "aios-bench-http-"));
  let refs: Miniflare | undefined;
  try {
    refs = await startReferences(root, refDir);
    for (let b = 0; b < ENTITIES / 1000; b++) {
      const r = await stack.api("/memory/create_entities", {
        method: "POST",
        body: JSON.stringify({ namespace: "http", entities: entities(1000, 1, b * 1000) }),
      });
      if (!r.ok) throw new Error(`create_entities: ${r.status} ${await r.text()}`);
    }
    const auth = { authorization: `Bearer ${TOKEN}` };
    const targets = {
      noop: get("no-op worker", `http://${NOOP_IP}:${PORT}/`),
      health: get("cell /health", stack.url("cell", "/health")),
      insert: post("plain insert", `http://${INSERT_IP}:${PORT}/`, (n) => ({ row: `http bench row ${n}` })),
      write: post(
        "add_observations",
        stack.url("cell", "/memory/add_observations"),
        (n) => ({
          namespace: "http",
          observations: [{ entityName: `entity-${(n * 13) % ENTITIES}`, contents: [`http bench write ${n}`] }],
        }),
        auth,
      ),
      search: post(
        "search_nodes",
        stack.url("cell", "/memory/search_nodes"),
        (n) => ({ namespace: "http", query: searchQuery(n), limit: 20 }),
        auth,
      ),
    } satisfies Record<string, Target>;
    type Name = keyof typeof targets;
    const names = Object.keys(targets) as Name[];
    const samples = Object.fromEntries(names.map((n) => [n, [] as Sample[]])) as Record<Name, Sample[]>;

    for (const n of names) await targets[n](WARMUP_SECONDS);
    for (let round = 0; round < ROUNDS; round++) {
      for (const n of names) samples[n].push(await targets[n](SECONDS));
      console.log(
        `  round ${round + 1}/${ROUNDS}: ` + names.map((n) => `${n} ${Math.round(samples[n][round]!.rps)}/s`).join(", "),
      );
    }

    // Values are medians over the rounds; a ratio is the median of the rounds' ratios (target and
    // reference measured back to back), which cancels most of the drift of a shared machine.
    const m = (n: Name, k: keyof Sample) => median(samples[n].map((s) => s[k]));
    const paired = (n: Name, ref: Name, k: keyof Sample) => median(samples[n].map((s, i) => s[k] / samples[ref][i]![k]));
    const how = `${CONNECTIONS} connections, median of ${ROUNDS} interleaved ${SECONDS} s runs, ratio = median of per-run ratios`;
    const throughput = (n: Name, ref: Name, what: string, refWhat: string, min?: number): Figure => {
      const ratio = paired(n, ref, "rps");
      return {
        figure: `${what} throughput (${how})`,
        value: m(n, "rps"),
        unit: "req/s",
        reference: refWhat,
        referenceValue: m(ref, "rps"),
        ratio,
        ...(min === undefined ? {} : { target: `>= ${min}x reference`, met: ratio >= min }),
      };
    };
    const latency = (n: Name, ref: Name, what: string, refWhat: string, k: "p50" | "p99"): Figure => ({
      figure: `${what} latency ${k} (ratio = ours / reference)`,
      value: m(n, k),
      unit: "ms",
      reference: `${refWhat} ${k}`,
      referenceValue: m(ref, k),
      ratio: paired(n, ref, k),
    });
    const NOOP = "no-op worker, same workerd";
    const INSERT = "plain DO SQLite insert, same workerd";
    const HEALTH = "cell GET /health";
    const WRITE = `add_observations (one new observation per request, ${ENTITIES} entities)`;
    const SEARCH = `search_nodes at ${ENTITIES} entities`;
    const figures: Figure[] = [
      throughput("health", "noop", HEALTH, NOOP, 0.8),
      latency("health", "noop", HEALTH, NOOP, "p50"),
      latency("health", "noop", HEALTH, NOOP, "p99"),
      throughput("write", "insert", WRITE, INSERT, 0.6),
      latency("write", "insert", WRITE, INSERT, "p50"),
      latency("write", "insert", WRITE, INSERT, "p99"),
      throughput("search", "noop", SEARCH, NOOP),
      latency("search", "noop", SEARCH, NOOP, "p50"),
      latency("search", "noop", SEARCH, NOOP, "p99"),
      throughput("insert", "noop", "plain DO SQLite insert (the storage reference)", NOOP),
    ];
    report("http", figures, root);
    return figures;
  } finally {
    await refs?.dispose().catch(() => undefined);
    await stack.stop();
    rmSync(refDir, { recursive: true, force: true });
    rmSync(stack.dir, { recursive: true, force: true });
  }
}
