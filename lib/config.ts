/**
 * The stack's configuration, parsed once from environment variables (see
 * README "Configuration"). The launcher validates the whole set at start-up;
 * a bad value becomes a ConfigError naming the variable.
 */
import { parsePeerList, parsePort, type PeerAddress } from "./address";
import { LOG_LEVELS, type LogLevel } from "./log";

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

export interface Ports {
  cell: number;
  discovery: number;
  bridge: number;
  metrics: number;
}

export interface StackConfig {
  cellId: string;
  branch: string;
  hostname: string;
  host: string;
  bridgeHost: string;
  ports: Ports;
  cellAddr?: string;
  networkPeers: PeerAddress[];
  discoveryScan: string;
  dataDir: string;
  logDir: string;
  logLevel: LogLevel;
  clusterSecret?: string;
  apiToken?: string;
  vaultAddr?: string;
  vaultToken?: string;
  /** The KV v2 API path of the secret, below /v1/ (AIOS_VAULT_PATH). */
  vaultPath: string;
  prometheusAddr?: string;
  modelUrl?: string;
  model?: string;
  modelApiKey?: string;
  modelTimeoutMs?: number;
  mdns: boolean;
  /** The address other cells reach this one at. */
  advertiseHost: string;
  peerRemoveAfterSeconds: number;
  embed: EmbedConfig;
}

// ---- recall by meaning: which embedder (lib/embed/client.ts) ----
export interface EmbedConfig {
  /** `builtin`: the model that ships with the stack, run beside it by the launcher; `off`: no embeddings. */
  mode: "builtin" | "off";
  /** An OpenAI-compatible /v1/embeddings endpoint used instead of the built-in model. */
  url?: string;
  model?: string;
  apiKey?: string;
  timeoutMs?: number;
}

function parseEmbedConfig(env: RawEnv): EmbedConfig {
  const mode = (opt(env, "AIOS_EMBED") ?? "builtin").toLowerCase();
  if (mode !== "builtin" && mode !== "off") throw new ConfigError("AIOS_EMBED", `expected builtin or off, got "${mode}"`);
  const timeout = opt(env, "AIOS_EMBED_TIMEOUT_MS");
  if (timeout !== undefined && (!/^\d+$/.test(timeout) || Number(timeout) < 1)) {
    throw new ConfigError("AIOS_EMBED_TIMEOUT_MS", `expected a whole number of milliseconds, got "${timeout}"`);
  }
  const endpoint = url(env, "AIOS_EMBED_URL");
  const model = opt(env, "AIOS_EMBED_MODEL");
  if (model !== undefined && !endpoint)
    throw new ConfigError("AIOS_EMBED_MODEL", "needs AIOS_EMBED_URL (the endpoint that serves it)");
  return {
    mode,
    ...(endpoint ? { url: endpoint } : {}),
    ...(model ? { model } : {}),
    ...(opt(env, "AIOS_EMBED_API_KEY") ? { apiKey: opt(env, "AIOS_EMBED_API_KEY") } : {}),
    ...(timeout ? { timeoutMs: Number(timeout) } : {}),
  };
}
// ---- end of recall by meaning ----

export type RawEnv = Record<string, string | undefined>;

const CELL_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const VAULT_PATH = /^[A-Za-z0-9_-][A-Za-z0-9._/-]{0,511}$/;

function opt(env: RawEnv, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

function port(env: RawEnv, name: string, fallback: number): number {
  const raw = opt(env, name);
  if (raw === undefined) return fallback;
  const p = parsePort(raw);
  if (p === undefined) throw new ConfigError(name, `expected a port number 1-65535, got "${raw}"`);
  return p;
}

function url(env: RawEnv, name: string): string | undefined {
  const raw = opt(env, name);
  if (raw === undefined) return undefined;
  try {
    const u = new URL(raw);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
    return raw.replace(/\/+$/, "");
  } catch {
    throw new ConfigError(name, `expected an http(s) URL, got "${raw}"`);
  }
}

function bindHost(env: RawEnv, name: string, fallback: string): string {
  const raw = opt(env, name) ?? fallback;
  if (!/^[0-9a-z.:-]+$/i.test(raw)) throw new ConfigError(name, `expected an IP address or host name, got "${raw}"`);
  return raw;
}

export function defaultCellId(hostname: string): string {
  const id = hostname
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, "-")
    .replace(/^[^a-z0-9]+/, "");
  return (id || "cell").slice(0, 63);
}

export interface ConfigDefaults {
  hostname: string;
  branch: string;
  /** This machine's LAN address, for AIOS_HOST=0.0.0.0. */
  lanAddress: string;
}

export function parseStackConfig(env: RawEnv, defaults: ConfigDefaults): StackConfig {
  const cellId = opt(env, "AIOS_CELL_ID")?.toLowerCase() ?? defaultCellId(defaults.hostname);
  if (!CELL_ID.test(cellId)) {
    throw new ConfigError("AIOS_CELL_ID", `expected 1-63 characters of a-z, 0-9, ".", "_", "-", got "${cellId}"`);
  }
  const discoveryId = opt(env, "CELL_ID")?.toLowerCase();
  if (discoveryId !== undefined && discoveryId !== cellId) {
    throw new ConfigError("CELL_ID", `must equal AIOS_CELL_ID ("${cellId}") when both are set, got "${discoveryId}"`);
  }
  const logLevel = (opt(env, "AIOS_LOG_LEVEL") ?? "info").toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError("AIOS_LOG_LEVEL", `expected one of ${LOG_LEVELS.join(", ")}, got "${logLevel}"`);
  }
  const ports: Ports = {
    cell: port(env, "AIOS_CELL_PORT", 8000),
    discovery: port(env, "DISCOVERY_PORT", 8001),
    bridge: port(env, "BRIDGE_PORT", 3001),
    metrics: port(env, "AIOS_METRICS_PORT", 9091),
  };
  const seen = new Map<number, string>();
  for (const [name, p] of Object.entries(ports)) {
    if (seen.has(p)) throw new ConfigError(portVariable(name), `port ${p} is also used by ${seen.get(p)}`);
    seen.set(p, name);
  }
  let networkPeers: PeerAddress[];
  try {
    networkPeers = parsePeerList(opt(env, "AIOS_NETWORK_PEERS"));
  } catch (e) {
    throw new ConfigError("AIOS_NETWORK_PEERS", `${(e as Error).message}; expected host, host:port or http://host:port`);
  }
  const mdns = (opt(env, "AIOS_MDNS") ?? "on").toLowerCase();
  if (!["on", "off", "true", "false", "1", "0"].includes(mdns)) {
    throw new ConfigError("AIOS_MDNS", `expected on or off, got "${mdns}"`);
  }
  const vaultAddr = url(env, "AIOS_VAULT_ADDR");
  const vaultToken = opt(env, "VAULT_TOKEN");
  if (vaultAddr && !vaultToken) throw new ConfigError("VAULT_TOKEN", "is required when AIOS_VAULT_ADDR is set");
  const vaultPath = opt(env, "AIOS_VAULT_PATH") ?? "secret/data/aios";
  if (!VAULT_PATH.test(vaultPath) || vaultPath.split("/").some((seg) => seg === "" || seg === "." || seg === "..")) {
    throw new ConfigError(
      "AIOS_VAULT_PATH",
      `expected a KV v2 API path like secret/data/aios (no leading or trailing "/", no "..", letters, digits, "._-/"), got "${vaultPath}"`,
    );
  }
  if (!vaultPath.includes("/data/")) {
    throw new ConfigError(
      "AIOS_VAULT_PATH",
      `expected a KV v2 API path <mount>/data/<name>, e.g. secret/data/aios, got "${vaultPath}"`,
    );
  }
  const host = bindHost(env, "AIOS_HOST", "0.0.0.0");
  const modelTimeout = opt(env, "AIOS_MODEL_TIMEOUT_MS");
  if (modelTimeout !== undefined && (!/^\d+$/.test(modelTimeout) || Number(modelTimeout) < 1)) {
    throw new ConfigError("AIOS_MODEL_TIMEOUT_MS", `expected a whole number of milliseconds, got "${modelTimeout}"`);
  }
  const removeAfter = opt(env, "AIOS_PEER_REMOVE_AFTER") ?? "600";
  if (!/^\d+$/.test(removeAfter) || Number(removeAfter) < 1) {
    throw new ConfigError("AIOS_PEER_REMOVE_AFTER", `expected a whole number of seconds, got "${removeAfter}"`);
  }
  return {
    cellId,
    branch: opt(env, "AIOS_BRANCH") ?? defaults.branch,
    hostname: defaults.hostname,
    host,
    bridgeHost: bindHost(env, "AIOS_BRIDGE_HOST", "127.0.0.1"),
    ports,
    cellAddr: url(env, "AIOS_CELL_ADDR"),
    networkPeers,
    discoveryScan: opt(env, "AIOS_DISCOVERY_SCAN") ?? "",
    dataDir: opt(env, "AIOS_DATA_DIR") ?? "./data",
    logDir: opt(env, "AIOS_LOG_DIR") ?? "./logs",
    logLevel: logLevel as LogLevel,
    clusterSecret: opt(env, "AIOS_CLUSTER_SECRET"),
    apiToken: opt(env, "AIOS_API_TOKEN"),
    vaultAddr,
    vaultToken,
    vaultPath,
    prometheusAddr: url(env, "AIOS_PROMETHEUS_ADDR"),
    modelUrl: url(env, "AIOS_MODEL_URL"),
    model: opt(env, "AIOS_MODEL"),
    modelApiKey: opt(env, "AIOS_MODEL_API_KEY"),
    modelTimeoutMs: modelTimeout === undefined ? undefined : Number(modelTimeout),
    mdns: ["on", "true", "1"].includes(mdns),
    advertiseHost: bindHost(env, "AIOS_ADVERTISE_HOST", host === "0.0.0.0" || host === "::" ? defaults.lanAddress : host),
    peerRemoveAfterSeconds: Number(removeAfter),
    embed: parseEmbedConfig(env),
  };
}

function portVariable(service: string): string {
  return { cell: "AIOS_CELL_PORT", discovery: "DISCOVERY_PORT", bridge: "BRIDGE_PORT", metrics: "AIOS_METRICS_PORT" }[service]!;
}
export { portVariable };
