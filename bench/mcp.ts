/**
 * MCP tool calls at 10,000 entities: add_observations throughput and latency
 * (8 calls in flight) and search_nodes latency (one at a time), through the
 * bridge's /mcp (Streamable HTTP) against @modelcontextprotocol/server-memory
 * (stdio), both driven by the official MCP client with the same workload in
 * the same run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { TestStack } from "../harness/stack";
import { startReferenceMemory, type ToolCaller } from "../harness/reference-memory";
import { report, type Figure } from "./stats";
import { median, percentile } from "../harness/measure";
import { entities, pool, searchQuery } from "./workload";

const ENTITIES = 10_000;
const BATCH = 1000;
const WRITES = 300;
const SEARCHES = 200;
const CONCURRENCY = 8;
const WARMUP = 16;

type ToolResult = { isError?: boolean; structuredContent?: Record<string, unknown>; content?: unknown };

/** The bridge's MCP endpoint behind the same interface as the reference. */
async function connectBridge(stack: TestStack): Promise<ToolCaller> {
  // Loaded when the benchmark runs (see reference-memory.ts).
  const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
  const { StreamableHTTPClientTransport } = await import("@modelcontextprotocol/sdk/client/streamableHttp.js");
  const client = new Client({ name: "aios-bench", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(stack.url("bridge", "/mcp"))));
  return {
    async call(tool, args) {
      const r = (await client.callTool({ name: tool, arguments: args })) as ToolResult;
      if (r.isError) throw new Error(`${tool} failed: ${JSON.stringify(r.content)}`);
      return r.structuredContent ?? r.content;
    },
    close: () => client.close(),
  };
}

/** Each write targets a different entity (13 is coprime with 10,000) with a new observation. */
const entityOf = (i: number) => `entity-${(i * 13) % ENTITIES}`;
const writeArgs = (i: number, tag: string) => ({
  observations: [{ entityName: entityOf(i), contents: [`${tag} ${i}`] }],
});

interface Measured {
  perSecond: number;
  writeLat: number[];
  searchLat: number[];
  /** Writes readable afterwards (open_nodes over the touched entities). */
  retained: number;
}

async function measure(caller: ToolCaller): Promise<Measured> {
  for (let b = 0; b < ENTITIES / BATCH; b++) {
    await caller.call("create_entities", { entities: entities(BATCH, 1, b * BATCH) });
  }
  // Warm both sides the same way (connections, JIT), outside the measurement.
  await pool(WARMUP, CONCURRENCY, (i) => caller.call("add_observations", writeArgs(ENTITIES - 1 - i, "mcp warmup")));
  await pool(WARMUP, 1, (i) => caller.call("search_nodes", { query: searchQuery(100_000 + i) }));

  const t = performance.now();
  const writeLat = await pool(WRITES, CONCURRENCY, (i) => caller.call("add_observations", writeArgs(i, "mcp write")));
  const perSecond = WRITES / ((performance.now() - t) / 1000);
  const searchLat = await pool(SEARCHES, 1, (i) => caller.call("search_nodes", { query: searchQuery(i) }));

  const names = Array.from({ length: WRITES }, (_, i) => entityOf(i));
  const opened = (await caller.call("open_nodes", { names })) as { entities?: { observations: string[] }[] };
  const retained = (opened.entities ?? []).reduce(
    (n, e) => n + e.observations.filter((o) => o.startsWith("mcp write ")).length,
    0,
  );
  return { perSecond, writeLat, searchLat, retained };
}

export async function benchMcp(root: string): Promise<Figure[]> {
  const stack = await TestStack.start({ ip: "127.0.25.1", env: { AIOS_API_TOKEN: "bench", AIOS_LOG_LEVEL: "warn" } });
  const refDir = mkdtempSync(path.join(os.tmpdir(), "aios-mcp-ref-"));
  let ours: ToolCaller | undefined;
  let ref: ToolCaller | undefined;
  try {
    ours = await connectBridge(stack);
    ref = await startReferenceMemory(root, path.join(refDir, "memory.jsonl"));
    const a = await measure(ours);
    const r = await measure(ref);

    const wRatio = a.perSecond / r.perSecond;
    const speedup = (mine: number[], theirs: number[], p: number) => percentile(theirs, p) / percentile(mine, p);
    const figures: Figure[] = [
      {
        figure: `add_observations tool calls at 10,000 entities (bridge /mcp, ${CONCURRENCY} in flight)`,
        value: a.perSecond,
        unit: "calls/s",
        reference: "server-memory over stdio, same client and workload",
        referenceValue: r.perSecond,
        ratio: wRatio,
        target: "write throughput >= 10x reference",
        met: wRatio >= 10,
      },
      {
        figure: "add_observations latency median (ratio = reference ÷ ours)",
        value: median(a.writeLat),
        unit: "ms",
        reference: "server-memory median",
        referenceValue: median(r.writeLat),
        ratio: speedup(a.writeLat, r.writeLat, 50),
      },
      {
        figure: "add_observations latency p99 (ratio = reference ÷ ours)",
        value: percentile(a.writeLat, 99),
        unit: "ms",
        reference: "server-memory p99",
        referenceValue: percentile(r.writeLat, 99),
        ratio: speedup(a.writeLat, r.writeLat, 99),
      },
      {
        figure: "search_nodes latency median at 10,000 entities, sequential (ratio = reference ÷ ours)",
        value: median(a.searchLat),
        unit: "ms",
        reference: "server-memory median",
        referenceValue: median(r.searchLat),
        ratio: speedup(a.searchLat, r.searchLat, 50),
      },
      {
        figure: "search_nodes latency p99 (ratio = reference ÷ ours)",
        value: percentile(a.searchLat, 99),
        unit: "ms",
        reference: "server-memory p99",
        referenceValue: percentile(r.searchLat, 99),
        ratio: speedup(a.searchLat, r.searchLat, 99),
      },
      {
        figure: `add_observations writes readable afterwards (of ${WRITES})`,
        value: a.retained,
        unit: "writes",
        reference: "server-memory",
        referenceValue: r.retained,
        ratio: r.retained ? a.retained / r.retained : NaN,
        target: "every write kept",
        met: a.retained === WRITES,
      },
    ];
    report("mcp", figures, root);
    return figures;
  } finally {
    await ours?.close().catch(() => undefined);
    await ref?.close().catch(() => undefined);
    await stack.stop();
    rmSync(refDir, { recursive: true, force: true });
    rmSync(stack.dir, { recursive: true, force: true });
  }
}
