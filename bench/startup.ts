/**
 * Start-up time (launch to all four ports answering) and resident memory of
 * the whole process group (launcher and runtime), idle after start and again
 * after 10,000 writes, with embedding off; then idle after start with the
 * default built-in embedder (its own workerd, model not loaded until there is
 * text to embed: `bench recall` measures it loaded). The reference, measured
 * in the same run: workerd serving one no-op worker (the runtime's floor).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { workerdBinary } from "../launcher/runtime";
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
  command: string[],
  urls: string[],
  env: NodeJS.ProcessEnv,
  root: string,
  load?: () => Promise<void>,
): Promise<Measured> {
  const t0 = performance.now();
  const child = spawn(command[0]!, command.slice(1), { cwd: root, env, stdio: "ignore" });
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
  const refDir = mkdtempSync(path.join(os.tmpdir(), "aios-bench-"));
  writeFileSync(path.join(refDir, "noop.mjs"), "export default { fetch: () => new Response('ok') };");
  writeFileSync(
    path.join(refDir, "noop.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";
     const config :Workerd.Config = (
       services = [(name = "noop", worker = (modules = [(name = "noop.mjs", esModule = embed "noop.mjs")],
         compatibilityDate = "2026-04-20"))],
       sockets = [(name = "noop", address = "${IP}:8000", http = (), service = "noop")]);`,
  );
  const refCommand = [workerdBinary(), "serve", "--experimental", path.join(refDir, "noop.capnp")];
  const withEmbedder: Measured[] = [];
  for (let i = 0; i < RUNS; i++) {
    const dir = mkdtempSync(path.join(os.tmpdir(), "aios-bench-"));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AIOS_HOST: IP,
      AIOS_BRIDGE_HOST: IP,
      AIOS_DATA_DIR: path.join(dir, "data"),
      AIOS_LOG_DIR: path.join(dir, "logs"),
      AIOS_MDNS: "off",
      AIOS_LOG_LEVEL: "warn",
      AIOS_API_TOKEN: TOKEN,
      AIOS_EMBED: "off",
    };
    // As `npm start` runs it (package.json).
    const launch = [process.execPath, "--max-semi-space-size=1", path.join(root, "bin", "aios.mjs"), "start"];
    stack.push(
      await measure(
        launch,
        PORTS.map((p) => `http://${IP}:${p}/health`),
        env,
        root,
        // The first run also writes: one 10,000-write run says what the store costs in memory.
        i === 0 ? () => write(WRITES) : undefined,
      ),
    );
    ref.push(await measure(refCommand, [`http://${IP}:8000/`], process.env, root));
    rmSync(dir, { recursive: true, force: true });
    if (i === 0) {
      const embedDir = mkdtempSync(path.join(os.tmpdir(), "aios-bench-"));
      const embedEnv = { ...env, AIOS_EMBED: "builtin", AIOS_DATA_DIR: path.join(embedDir, "data") };
      withEmbedder.push(
        await measure(
          launch,
          PORTS.map((p) => `http://${IP}:${p}/health`),
          embedEnv,
          root,
        ),
      );
      rmSync(embedDir, { recursive: true, force: true });
    }
  }
  rmSync(refDir, { recursive: true, force: true });
  const ms = median(stack.map((s) => s.ms));
  const refMs = median(ref.map((s) => s.ms));
  const mb = median(stack.map((s) => s.rss)) / 2 ** 20;
  const refMb = median(ref.map((s) => s.rss)) / 2 ** 20;
  const loadedMb = stack[0]!.loadedRss! / 2 ** 20;
  const embedMb = withEmbedder[0]!.rss / 2 ** 20;
  const reference = "workerd serving a no-op worker";
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
      figure: "resident memory of the whole process group, idle after start, embedding off (median)",
      value: mb,
      unit: "MB",
      reference,
      referenceValue: refMb,
      ratio: mb / refMb,
      target: "<= 250 MB",
      met: mb <= 250,
    },
    {
      figure: `resident memory of the whole process group after ${WRITES.toLocaleString("en-US")} writes, embedding off`,
      value: loadedMb,
      unit: "MB",
      reference,
      referenceValue: refMb,
      ratio: loadedMb / refMb,
      target: "<= 250 MB",
      met: loadedMb <= 250,
    },
    {
      figure: "resident memory of the whole process group, idle after start, built-in embedder (the default)",
      value: embedMb,
      unit: "MB",
      reference,
      referenceValue: refMb,
      ratio: embedMb / refMb,
    },
  ];
  report("startup", figures, root);
  return figures;
}
