/**
 * `npm run relay`: the relay worker (workers/relay, docs/relay.md) in workerd, as it runs on
 * Cloudflare, on AIOS_HOST:AIOS_RELAY_PORT with its replica under AIOS_DATA_DIR/relay.
 * `npm run relay-key` prints the relay key for `wrangler secret put AIOS_RELAY_KEY`.
 */
import { stop as stopBundler } from "esbuild";
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { deriveRelayKey } from "../lib/cluster-keys";
import { ConfigError, parseRelayConfig, type RelayConfig } from "../lib/config";
import { createLogger } from "../lib/log";
import { loadEnv } from "./env-file";
import { WorkerdProcess } from "./runtime";
import { pipeRuntime } from "./start";
import { runtimeWorker, workerdConfig } from "./workerd-config";
import { bundleWorkers, readRelaySpec } from "./workers";

function loadRelayConfig(): RelayConfig {
  return parseRelayConfig(loadEnv(path.resolve(".env"), process.env));
}

/** The relay key: as given, or derived from the cluster secret (only the derived key is kept). */
async function relayKeyOf(cfg: RelayConfig): Promise<string> {
  return cfg.relayKey ?? deriveRelayKey(cfg.clusterSecret!);
}

export async function relayKey(): Promise<number> {
  const secret = loadEnv(path.resolve(".env"), process.env).AIOS_CLUSTER_SECRET?.trim();
  if (!secret) {
    console.error("aios: configuration error: AIOS_CLUSTER_SECRET: is required to derive the relay key from");
    return 2;
  }
  console.log(await deriveRelayKey(secret));
  return 0;
}

export async function relay(root: string): Promise<number> {
  let cfg: RelayConfig;
  try {
    cfg = loadRelayConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`aios: configuration error: ${e.message}`);
      return 2;
    }
    throw e;
  }
  const key = await relayKeyOf(cfg);
  // Only the derived key goes on: the relay never holds the cluster secret.
  delete cfg.clusterSecret;
  const dataDir = path.resolve(cfg.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const log = createLogger({ service: "relay-launcher", cell_id: "relay" }, cfg.logLevel, (line) => console.log(line));
  const spec = readRelaySpec(root);
  const scripts = await bundleWorkers([spec], path.join(root, ".build", "workers"));
  await stopBundler();
  // Earlier versions' scratch folder (they ran the relay through Miniflare).
  rmSync(path.join(dataDir, ".relay-runtime"), { recursive: true, force: true });
  const storage = path.join(dataDir, "relay");
  mkdirSync(storage, { recursive: true });
  const configDir = path.join(root, ".build", "workers");
  const worker = runtimeWorker(spec, scripts.get("relay")!, { AIOS_RELAY_KEY: key }, { host: cfg.host, port: cfg.port });
  let stopping = false;
  const runtime = new WorkerdProcess({
    name: "relay",
    configDir,
    config: workerdConfig([worker], configDir, storage),
    output(stdout, stderr) {
      pipeRuntime(stdout, "info", (l) => console.log(l), "relay");
      pipeRuntime(stderr, "error", (l) => console.log(l), "relay");
    },
    onExit: (code, signal) => {
      log.error("the relay's runtime exited", { code, signal });
      process.exit(1);
    },
  });
  const shutdown = async (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info("shutting down", { signal });
    await runtime.dispose();
    process.exit(0);
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, (s) => void shutdown(s));
  try {
    await runtime.ready;
  } catch (e) {
    console.error(`aios: the relay failed to start: ${(e as Error).message}`);
    await runtime.dispose();
    return 1;
  }
  const shown = cfg.host === "0.0.0.0" ? "127.0.0.1" : cfg.host;
  console.log(`aios: relay listening on http://${shown}:${cfg.port} (data in ${path.join(dataDir, "relay")})`);
  log.info("ready", { host: cfg.host, port: cfg.port });
  await new Promise<never>(() => undefined);
  return 0;
}
