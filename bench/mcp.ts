/**
 * MCP tool calls at 10,000 entities, the way Copilot makes them (one at a time) and with 8 in flight:
 * - what MCP costs over REST on the same stack: the bridge's /mcp (a JSON-RPC tools/call) against the
 *   cell's REST route for the same operation, both sent by one lean keep-alive client, alternating,
 *   so the difference is the server's; and where that difference goes, from one small call made three
 *   ways (reading the contexts: on the cell, through the bridge's REST route, as the bridge's MCP tool);
 * - against @modelcontextprotocol/server-memory (stdio), both driven by the official MCP client with
 *   the same workload, one call at a time (the reference serialises its calls anyway).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { TestStack } from "../harness/stack";
import { startReferenceMemory, type ToolCaller } from "../harness/reference-memory";
import { jsonClient, type JsonClient } from "./client";
import { report, type Figure } from "./stats";
import { median, percentile } from "../harness/measure";
import { entities, pool, searchQuery } from "./workload";

const ENTITIES = 10_000;
const BATCH = 1000;
/** Calls per measured series; the series alternate MCP and REST in rounds of this size. */
const ROUND = 250;
const ROUNDS = 4;
/** Calls before measuring, on each path: workerd's latency falls for its first few thousand requests (V8 optimises). */
const WARMUP = 2000;
const REFERENCE_CALLS = 150;
const CONCURRENCY = 8;

type ToolResult = { isError?: boolean; structuredContent?: Record<string, unknown>; content?: unknown };

/** The bridge's MCP endpoint through the official client (Streamable HTTP), as the reference is driven. */
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
const writeArgs = (i: number, tag: string) => ({ observations: [{ entityName: entityOf(i), contents: [`${tag} ${i}`] }] });

/** One operation two ways on one stack: a JSON-RPC tools/call to /mcp and the same call over REST. */
function paths(stack: TestStack, client: JsonClient) {
  let id = 0;
  const mcpUrl = stack.url("bridge", "/mcp");
  return {
    mcp: async (tool: string, args: Record<string, unknown>) => {
      const r = (await client.post(mcpUrl, {
        jsonrpc: "2.0",
        id: ++id,
        method: "tools/call",
        params: { name: tool, arguments: args },
      })) as { result?: ToolResult; error?: unknown };
      if (!r.result || r.result.isError) throw new Error(`${tool} failed: ${JSON.stringify(r.error ?? r.result?.content)}`);
    },
    rest: (tool: string, args: Record<string, unknown>) => client.post(stack.url("cell", `/memory/${tool}`), args),
    /** One small read three ways: the cell's route, the bridge's route (a typed call to the cell), the MCP tool. */
    contexts: {
      cell: () => client.get(stack.url("cell", "/context")),
      bridge: () => client.get(stack.url("bridge", "/context")),
      mcp: async () => {
        const r = (await client.post(mcpUrl, {
          jsonrpc: "2.0",
          id: ++id,
          method: "tools/call",
          params: { name: "get_context", arguments: {} },
        })) as { result?: ToolResult };
        if (!r.result || r.result.isError) throw new Error(`get_context failed: ${JSON.stringify(r)}`);
      },
    },
  };
}

/** Alternating rounds of the three ways of reading the contexts, one at a time; the latencies of each. */
async function hops(p: ReturnType<typeof paths>): Promise<Record<"cell" | "bridge" | "mcp", number[]>> {
  const lat = { cell: [] as number[], bridge: [] as number[], mcp: [] as number[] };
  for (const way of ["cell", "bridge", "mcp"] as const) await pool(WARMUP / 4, 1, () => p.contexts[way]());
  for (let round = 0; round < ROUNDS; round++) {
    for (const way of ["cell", "bridge", "mcp"] as const) lat[way].push(...(await pool(ROUND, 1, () => p.contexts[way]())));
  }
  return lat;
}

interface Series {
  mcp: number[];
  rest: number[];
}

/** Alternating rounds of MCP and REST calls (`concurrency` in flight); latencies and calls per second of each. */
async function compare(
  p: ReturnType<typeof paths>,
  tool: string,
  args: (i: number) => Record<string, unknown>,
  concurrency: number,
): Promise<{ lat: Series; perSecond: { mcp: number; rest: number } }> {
  const lat: Series = { mcp: [], rest: [] };
  const time = { mcp: 0, rest: 0 };
  let n = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const way of ["mcp", "rest"] as const) {
      const base = n;
      const t = performance.now();
      lat[way].push(...(await pool(ROUND, concurrency, (i) => p[way](tool, args(base + i)))));
      time[way] += performance.now() - t;
      n += ROUND;
    }
  }
  const calls = ROUND * ROUNDS;
  return { lat, perSecond: { mcp: calls / (time.mcp / 1000), rest: calls / (time.rest / 1000) } };
}

async function fill(caller: (tool: string, args: Record<string, unknown>) => Promise<unknown>): Promise<void> {
  for (let b = 0; b < ENTITIES / BATCH; b++) await caller("create_entities", { entities: entities(BATCH, 1, b * BATCH) });
}

/** Official client, one call at a time: writes per second and search latencies. */
async function sequential(
  caller: ToolCaller,
  warmup: number,
): Promise<{ writesPerSecond: number; writeLat: number[]; searchLat: number[] }> {
  await pool(warmup, 1, (i) => caller.call("add_observations", writeArgs(ENTITIES - 1 - (i % 1000), `client warmup ${i}`)));
  await pool(warmup, 1, (i) => caller.call("search_nodes", { query: searchQuery(200_000 + i) }));
  const t = performance.now();
  const writeLat = await pool(REFERENCE_CALLS, 1, (i) => caller.call("add_observations", writeArgs(i, "client write")));
  const writesPerSecond = REFERENCE_CALLS / ((performance.now() - t) / 1000);
  const searchLat = await pool(REFERENCE_CALLS, 1, (i) => caller.call("search_nodes", { query: searchQuery(i) }));
  return { writesPerSecond, writeLat, searchLat };
}

export async function benchMcp(root: string): Promise<Figure[]> {
  const stack = await TestStack.start({ ip: "127.0.25.1", env: { AIOS_API_TOKEN: "bench", AIOS_LOG_LEVEL: "warn" } });
  const refDir = mkdtempSync(path.join(os.tmpdir(), "aios-mcp-ref-"));
  const client = jsonClient({ authorization: "Bearer bench", accept: "application/json, text/event-stream" }, CONCURRENCY);
  let ours: ToolCaller | undefined;
  let ref: ToolCaller | undefined;
  try {
    const p = paths(stack, client);
    await fill(p.rest);
    // Warm both paths alike (connections, JIT) with words and entities the measurement does not use.
    for (const way of ["mcp", "rest"] as const) {
      await pool(WARMUP, 1, (i) => p[way]("search_nodes", { query: `${searchQuery(300_000 + i)}` }));
      await pool(WARMUP / 4, 1, (i) => p[way]("add_observations", writeArgs(5000 + (i % 1000), `${way} warmup ${i}`)));
    }
    const search1 = await compare(p, "search_nodes", (i) => ({ query: searchQuery(i) }), 1);
    const write1 = await compare(p, "add_observations", (i) => writeArgs(i, "one at a time"), 1);
    const write8 = await compare(p, "add_observations", (i) => writeArgs(i, "eight in flight"), CONCURRENCY);
    const search8 = await compare(p, "search_nodes", (i) => ({ query: searchQuery(50_000 + i) }), CONCURRENCY);
    const hop = await hops(p);

    ours = await connectBridge(stack);
    const a = await sequential(ours, 200);
    ref = await startReferenceMemory(root, path.join(refDir, "memory.jsonl"));
    await fill((tool, args) => ref!.call(tool, args));
    const r = await sequential(ref, 10);

    const extra = (s: Series) => median(s.mcp) - median(s.rest);
    const costFigure = (what: string, s: Series): Figure => ({
      figure: `${what}: median MCP call over the same REST call, one at a time (value = MCP − REST)`,
      value: extra(s),
      unit: "ms",
      reference: `REST median ${median(s.rest).toFixed(3)} ms; MCP median ${median(s.mcp).toFixed(3)} ms`,
      referenceValue: median(s.rest),
      ratio: median(s.mcp) / median(s.rest),
      target: "MCP costs at most 0.3 ms more than REST",
      met: extra(s) <= 0.3,
    });
    const figures: Figure[] = [
      costFigure("search_nodes at 10,000 entities", search1.lat),
      costFigure("add_observations at 10,000 entities", write1.lat),
      {
        figure: "where MCP's cost goes (1): the bridge and its typed call to the cell, GET /context through the bridge",
        value: median(hop.bridge) - median(hop.cell),
        unit: "ms",
        reference: `GET /context on the cell, median ${median(hop.cell).toFixed(3)} ms`,
        referenceValue: median(hop.cell),
        ratio: median(hop.bridge) / median(hop.cell),
      },
      {
        figure: "where MCP's cost goes (2): JSON-RPC and the tool's result, the get_context tool over GET /context on the bridge",
        value: median(hop.mcp) - median(hop.bridge),
        unit: "ms",
        reference: `GET /context through the bridge, median ${median(hop.bridge).toFixed(3)} ms`,
        referenceValue: median(hop.bridge),
        ratio: median(hop.mcp) / median(hop.bridge),
      },
      {
        figure: "search_nodes p99, one at a time, MCP (reference = REST p99)",
        value: percentile(search1.lat.mcp, 99),
        unit: "ms",
        reference: "REST p99",
        referenceValue: percentile(search1.lat.rest, 99),
        ratio: percentile(search1.lat.mcp, 99) / percentile(search1.lat.rest, 99),
      },
      {
        figure: `add_observations, ${CONCURRENCY} in flight: MCP calls/s (reference = REST calls/s)`,
        value: write8.perSecond.mcp,
        unit: "calls/s",
        reference: "REST, same client",
        referenceValue: write8.perSecond.rest,
        ratio: write8.perSecond.mcp / write8.perSecond.rest,
      },
      {
        figure: `search_nodes, ${CONCURRENCY} in flight: MCP calls/s (reference = REST calls/s)`,
        value: search8.perSecond.mcp,
        unit: "calls/s",
        reference: "REST, same client",
        referenceValue: search8.perSecond.rest,
        ratio: search8.perSecond.mcp / search8.perSecond.rest,
      },
      {
        figure: "add_observations one at a time, official MCP client: bridge /mcp calls/s",
        value: a.writesPerSecond,
        unit: "calls/s",
        reference: "server-memory over stdio, same client and workload",
        referenceValue: r.writesPerSecond,
        ratio: a.writesPerSecond / r.writesPerSecond,
        target: "writes >= 10x reference, one call at a time",
        met: a.writesPerSecond / r.writesPerSecond >= 10,
      },
      {
        figure: "search_nodes one at a time, official MCP client: median (ratio = reference ÷ ours)",
        value: median(a.searchLat),
        unit: "ms",
        reference: "server-memory median",
        referenceValue: median(r.searchLat),
        ratio: median(r.searchLat) / median(a.searchLat),
        target: "search >= 10x reference, one call at a time",
        met: median(r.searchLat) / median(a.searchLat) >= 10,
      },
      {
        figure: "add_observations one at a time, official MCP client: median (ratio = reference ÷ ours)",
        value: median(a.writeLat),
        unit: "ms",
        reference: "server-memory median",
        referenceValue: median(r.writeLat),
        ratio: median(r.writeLat) / median(a.writeLat),
      },
    ];
    report("mcp", figures, root);
    return figures;
  } catch (e) {
    console.error(`bench mcp failed; the stack's last output:\n${stack.output.slice(-3000)}`);
    throw e;
  } finally {
    client.close();
    await ours?.close().catch(() => undefined);
    await ref?.close().catch(() => undefined);
    await stack.stop();
    rmSync(refDir, { recursive: true, force: true });
    rmSync(stack.dir, { recursive: true, force: true });
  }
}
