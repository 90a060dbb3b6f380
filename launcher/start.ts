/**
 * `npm start`: validates the configuration, then runs the four workers of one
 * cell in one workerd process of its own (runtime.ts), on their own sockets,
 * with state under AIOS_DATA_DIR. Restarts the runtime with backoff if it
 * dies; SIGINT and SIGTERM stop it cleanly.
 */
import { stop as stopBundler } from "esbuild";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { createInterface } from "node:readline";
import { ConfigError, parseStackConfig, type StackConfig } from "../lib/config";
import { createLogger } from "../lib/log";
import { bindingsFor, type SettingName } from "../lib/settings";
import { loadEnv } from "./env-file";
import { refreshDashboardScript } from "./generate";
import { collectGarbage } from "./heap";
import { LogFiles } from "./logs";
import { startMdns, type Mdns } from "./mdns";
import { checkPorts, listeners } from "./ports";
import { WorkerdProcess } from "./runtime";
import { forgetRuntime, recordEmbedder, recordRuntime, stopOrphanedRuntime } from "./runtime-pid";
import { ensureApiToken } from "./token";
import { loadVaultSecrets, vaultVars, type VaultResult } from "./vault";
import { runtimeWorker, workerdConfig } from "./workerd-config";
import { bundleWorkers, readWorkerSpecs, type ServiceName } from "./workers";
import { bundleEmbedder, freePort, startEmbedder, type EmbedderRuntime } from "./embedder";

const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
/** A runtime that stayed up this long resets the backoff. */
const STABLE_MS = 60_000;

export function gitBranch(root: string): string {
  try {
    const head = readFileSync(path.join(root, ".git", "HEAD"), "utf8").trim();
    const m = /^ref: refs\/heads\/(.+)$/.exec(head);
    return m ? m[1]! : head.slice(0, 12);
  } catch {
    return "unknown";
  }
}

/** The first non-internal IPv4 address: what peers on the LAN reach us at when we bind 0.0.0.0. */
export function lanAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return "127.0.0.1";
}

export function loadConfig(root: string): StackConfig {
  const env = loadEnv(path.resolve(".env"), process.env);
  return parseStackConfig(env, { hostname: os.hostname(), branch: gitBranch(root), lanAddress: lanAddress() });
}

/** The vars of one worker: the settings it sees (lib/settings.ts), with what the launcher adds. */
function workerVars(
  service: ServiceName,
  cfg: StackConfig,
  apiToken: string,
  vault: VaultResult,
  startedAt: number,
  restart: boolean,
  extra: Partial<Record<SettingName, string>>,
): Record<string, string> {
  return bindingsFor(service, {
    ...cfg.settings,
    ...vaultVars(vault),
    AIOS_API_TOKEN: apiToken,
    AIOS_STARTED_AT: startedAt,
    AIOS_BOOT_ID: `${process.pid}-${startedAt}`,
    AIOS_BOOT_REASON: restart ? "restart" : "start",
    ...extra,
  });
}

/** Copies the runtime's output into the logs: our workers already print JSON lines; anything else is wrapped. */
export function pipeRuntime(stream: Readable, level: "info" | "error", sink: (line: string) => void, cellId: string): void {
  const rl = createInterface({ input: stream });
  rl.on("line", (line) => {
    if (!line.trim()) return;
    if (line.startsWith("{")) {
      try {
        JSON.parse(line);
        sink(line);
        return;
      } catch {
        // not ours: wrap it below
      }
    }
    sink(JSON.stringify({ time: new Date().toISOString(), level, service: "runtime", cell_id: cellId, msg: line }));
  });
}

/**
 * Earlier versions ran the runtime through Miniflare, which kept scratch files in
 * `<data>/.runtime/tmp` (emptied at each start); nothing writes there now.
 */
export function removeOldScratchFolder(dataDir: string): void {
  rmSync(path.join(dataDir, ".runtime"), { recursive: true, force: true });
}

export async function start(root: string): Promise<number> {
  let cfg: StackConfig;
  try {
    cfg = loadConfig(root);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`aios: configuration error: ${e.message}`);
      return 2;
    }
    throw e;
  }
  const dataDir = path.resolve(cfg.dataDir);
  const logDir = path.resolve(cfg.logDir);
  let files: LogFiles;
  try {
    mkdirSync(dataDir, { recursive: true });
    files = new LogFiles(logDir);
  } catch (e) {
    console.error(`aios: configuration error: AIOS_DATA_DIR/AIOS_LOG_DIR: ${(e as Error).message}`);
    return 2;
  }
  const write = (line: string) => {
    console.log(line);
    files.write(line);
  };
  const log = createLogger({ service: "launcher", cell_id: cfg.cellId }, cfg.logLevel, write);

  if (cfg.cellAddr) {
    log.warn("AIOS_CELL_ADDR is ignored: the bridge always reaches the cell of its own stack, through a service binding", {
      value: cfg.cellAddr,
    });
  }
  const orphan = stopOrphanedRuntime(dataDir);
  if (orphan !== undefined) log.warn("stopped the runtime a killed launcher left behind", { pid: orphan });
  const portProblem = await checkPorts(cfg);
  if (portProblem) {
    console.error(`aios: ${portProblem}`);
    return 2;
  }
  // Secrets from Vault (when configured) win over the environment; see launcher/vault.ts.
  const secrets = await loadVaultSecrets(cfg, log);
  cfg = secrets.cfg;
  const token = ensureApiToken(cfg.apiToken, dataDir);
  if (token.file) {
    log.info(token.created ? "generated an API token" : "using the API token kept in the data folder", { file: token.file });
  }

  const specs = readWorkerSpecs(root);
  // The built-in embedding model runs in a workerd of its own (embedder.ts), only when it is the embedder.
  const builtinEmbedder = cfg.embed.mode === "builtin" && !cfg.embed.url;
  // Bundles are kept in the checkout and reused while their sources are unchanged (workers.ts).
  await refreshDashboardScript(root);
  const [scripts, embedBundle, embedPort] = await Promise.all([
    bundleWorkers(specs, path.join(root, ".build", "workers")),
    builtinEmbedder ? bundleEmbedder(root, path.join(root, ".build", "embed")) : undefined,
    builtinEmbedder ? freePort("127.0.0.1") : undefined,
  ]);
  await stopBundler();
  let embedder: EmbedderRuntime | undefined;
  const embedVars = embedPort ? { AIOS_EMBED_BUILTIN_URL: `http://127.0.0.1:${embedPort}` } : {};
  removeOldScratchFolder(dataDir);
  const storage = path.join(dataDir, "durable-objects");
  mkdirSync(storage, { recursive: true });
  const configDir = path.join(root, ".build", "workers");
  const socketOf = new Map(listeners(cfg).map((l) => [l.service as ServiceName, { host: l.host, port: l.port }]));

  let runtime: WorkerdProcess | undefined;
  let mdns: Mdns | undefined;
  let stopping = false;
  let attempt = 0;
  let startedAt = 0;
  /** Whether the runtime ever became ready: from then on, the launcher restarts it when it dies. */
  let started = false;

  const boot = async (restart = false): Promise<void> => {
    startedAt = Date.now();
    const workers = specs.map((s) =>
      runtimeWorker(
        s,
        scripts.get(s.service)!,
        workerVars(s.service as ServiceName, cfg, token.token, secrets.vault, startedAt, restart, embedVars),
        socketOf.get(s.service as ServiceName)!,
      ),
    );
    const instance = new WorkerdProcess({
      name: "stack",
      configDir,
      config: workerdConfig(workers, configDir, storage),
      output(stdout, stderr) {
        pipeRuntime(stdout, "info", write, cfg.cellId);
        pipeRuntime(stderr, "error", write, cfg.cellId);
      },
      onExit: () => {
        // Before the first start succeeded, a failure ends `npm start` (below) instead.
        if (!stopping && started && runtime === instance) void onRuntimeExit();
      },
    });
    runtime = instance;
    await instance.ready;
    started = true;
    recordRuntime(dataDir, instance.pid);
    // Wake discovery's loop (seeds, scans, health checks) without waiting for a first request.
    const local = cfg.host === "0.0.0.0" ? "127.0.0.1" : cfg.host;
    await fetch(`http://${local}:${cfg.ports.discovery}/health`).catch(() => undefined);
    // …and the cell's state, whose alarm syncs with the relays when there is no LAN peer to wake it…
    await fetch(`http://${local}:${cfg.ports.cell}/health`).catch(() => undefined);
    // …and let the metrics store count this boot (a restart after a crash is counted).
    await fetch(`http://${local}:${cfg.ports.metrics}/health`).catch(() => undefined);
    // Advertise and browse on the LAN (in the background: it never delays "ready").
    await mdns?.stop();
    mdns = cfg.mdns && !stopping ? startMdns(cfg, token.token, log) : undefined;
    // What starting the runtime left in the launcher's heap is garbage now (launcher/heap.ts).
    collectGarbage();
  };

  const onRuntimeExit = async (): Promise<void> => {
    const [old, oldMdns] = [runtime, mdns];
    runtime = undefined;
    mdns = undefined;
    const uptime = Date.now() - startedAt;
    if (uptime > STABLE_MS) attempt = 0;
    const delay = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** attempt);
    attempt++;
    log.warn("runtime exited unexpectedly; restarting", { uptime_ms: uptime, restart_in_ms: delay, attempt });
    await oldMdns?.stop();
    await old?.dispose();
    await new Promise((r) => setTimeout(r, delay));
    if (stopping) return;
    try {
      await boot(true);
      log.info("runtime restarted", { attempt, ms: Date.now() - startedAt });
    } catch (e) {
      log.error("runtime failed to restart", { error: (e as Error).message });
      // A runtime that exited while starting has already scheduled the next attempt (its onExit);
      // one that hung has not: onRuntimeExit stops it and tries again.
      if (!stopping && runtime !== undefined) void onRuntimeExit();
    }
  };

  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) {
      process.exit(1);
    }
    stopping = true;
    log.info("shutting down", { signal });
    await mdns?.stop();
    await runtime?.dispose();
    await embedder?.dispose();
    forgetRuntime(dataDir);
    log.info("stopped", { signal });
    process.exit(0);
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, (signal) => void shutdown(signal));

  const t0 = Date.now();
  try {
    await boot();
    // The embedder's runtime starts once the stack is up, so it never slows the start; the backlog
    // retries until it answers. The model itself loads on the first request.
    if (embedBundle && embedPort) {
      embedder = startEmbedder(embedBundle, "127.0.0.1", embedPort, (stdout, stderr) => {
        pipeRuntime(stdout, "info", write, cfg.cellId);
        pipeRuntime(stderr, "error", write, cfg.cellId);
      });
      recordEmbedder(dataDir, embedder.pid);
      embedder.ready.catch((e: unknown) => log.error("the built-in embedder failed to start", { error: (e as Error).message }));
    }
  } catch (e) {
    console.error(`aios: the runtime failed to start: ${(e as Error).message}`);
    await runtime?.dispose();
    await embedder?.dispose();
    return 1;
  }
  for (const l of listeners(cfg)) {
    const shown = l.host === "0.0.0.0" ? "all interfaces" : l.host;
    console.log(
      `aios: ${l.service.padEnd(9)} listening on http://${l.host === "0.0.0.0" ? "127.0.0.1" : l.host}:${l.port} (${shown})`,
    );
  }
  log.info("ready", { ms: Date.now() - t0, cell_id: cfg.cellId, data_dir: dataDir, log_file: files.current });
  console.log(`aios: ready in ${Date.now() - t0} ms (cell ${cfg.cellId}, data in ${dataDir}, logs in ${logDir})`);
  if (token.file) console.log(`aios: API token for non-public endpoints is in ${token.file}`);
  await new Promise<never>(() => undefined);
  return 0;
}
