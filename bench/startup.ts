/**
 * Start-up time (launch to all four ports answering) and resident memory of
 * the whole process group (launcher and runtime), idle after start and again
 * after 10,000 writes, against a reference measured in the same run: Miniflare
 * booting one no-op worker (the runtime's floor).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { jsonClient } from "./client";
import { report, type Figure } from "./stats";
import { entities, pool } from "./workload";
import { median, treeRss } from "../harness/measure";

const RUNS = 5;
const IP = "127.0.20.1";
const PORTS = [8000, 8001, 3001, 9091];
const TOKEN = "bench-startup-token";
/** Writes (one entity with one observation each, 8 in flight) before the second memory figure. */
const WRITES = 10_000;
const SETTLE_MS = 3000;

async function answering(url: string): Promise<boolean> {
  return fetch(url).then(
    (r) => r.ok,
    () => false,
  );
}

async function waitAll(urls: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await Promise.all(urls.map(answering))).every(Boolean)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("not ready in time");
}

interface Measured {
  ms: number;
  rss: number;
  /** After `load` ran, when one was given. */
  loadedRss?: number;
}

async function measure(
  args: string[],
  urls: string[],
  env: NodeJS.ProcessEnv,
  root: string,
  load?: () => Promise<void>,
): Promise<Measured> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: "ignore" });
  try {
    await waitAll(urls);
    const ms = performance.now() - t0;
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const rss = treeRss(child.pid!);
    if (!load) return { ms, rss };
    await load();
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return { ms, rss, loadedRss: treeRss(child.pid!) };
  } finally {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
}

async function write(count: number): Promise<void> {
  const client = jsonClient({ authorization: `Bearer ${TOKEN}` }, 8);
  try {
    await pool(count, 8, (i) => client.post(`http://${IP}:8000/memory/create_entities`, { entities: entities(1, 1, i) }));
  } finally {
    client.close();
  }
}

export async function benchStartup(root: string): Promise<Figure[]> {
  const stack: Measured[] = [];
  const ref: Measured[] = [];
  const refScript = path.join(mkdtempSync(path.join(os.tmpdir(), "aios-bench-")), "noop.mjs");
  writeFileSync(
    refScript,
    `import { Miniflare, NoOpLog } from ${JSON.stringify(path.join(root, "node_modules", "miniflare", "dist", "src", "index.js"))};
     const mf = new Miniflare({ log: new NoOpLog(), host: "127.0.0.1", port: 0, workers: [{ name: "noop", modules: true,
       script: "export default { fetch: () => new Response('ok') }", compatibilityDate: "2026-04-20",
       unsafeDirectSockets: [{ host: "${IP}", port: 8000 }] }] });
     await mf.ready;
     process.on("SIGTERM", () => mf.dispose().then(() => process.exit(0)));`,
  );
  for (let i = 0; i < RUNS; i++) {
    const dir = mkdtempSync(path.join(os.tmpdir(), "aios-bench-"));
    const env = {
      ...process.env,
      AIOS_HOST: IP,
      AIOS_BRIDGE_HOST: IP,
      AIOS_DATA_DIR: path.join(dir, "data"),
      AIOS_LOG_DIR: path.join(dir, "logs"),
      AIOS_MDNS: "off",
      AIOS_LOG_LEVEL: "warn",
      AIOS_API_TOKEN: TOKEN,
    };
    stack.push(
      await measure(
        [path.join(root, "bin", "aios.mjs"), "start"],
        PORTS.map((p) => `http://${IP}:${p}/health`),
        env,
        root,
        // The first run also writes: one 10,000-write run says what the store costs in memory.
        i === 0 ? () => write(WRITES) : undefined,
      ),
    );
    ref.push(await measure([refScript], [`http://${IP}:8000/`], process.env, root));
    rmSync(dir, { recursive: true, force: true });
  }
  rmSync(path.dirname(refScript), { recursive: true, force: true });
  const ms = median(stack.map((s) => s.ms));
  const refMs = median(ref.map((s) => s.ms));
  const mb = median(stack.map((s) => s.rss)) / 2 ** 20;
  const refMb = median(ref.map((s) => s.rss)) / 2 ** 20;
  const loadedMb = stack[0]!.loadedRss! / 2 ** 20;
  const reference = "no-op worker on Miniflare";
  const figures: Figure[] = [
    {
      figure: "start-up, launch to all four ports answering (median)",
      value: ms,
      unit: "ms",
      reference,
      referenceValue: refMs,
      ratio: ms / refMs,
      target: "<= 2000 ms",
      met: ms <= 2000,
    },
    {
      figure: "resident memory of the whole process group, idle after start (median)",
      value: mb,
      unit: "MB",
      reference,
      referenceValue: refMb,
      ratio: mb / refMb,
      target: "<= 250 MB",
      met: mb <= 250,
    },
    {
      figure: `resident memory of the whole process group after ${WRITES.toLocaleString("en-US")} writes`,
      value: loadedMb,
      unit: "MB",
      reference,
      referenceValue: refMb,
      ratio: loadedMb / refMb,
      target: "<= 250 MB",
      met: loadedMb <= 250,
    },
  ];
  report("startup", figures, root);
  return figures;
}
