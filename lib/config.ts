/**
 * The stack's configuration for the launcher, parsed once from environment
 * variables with the schemas declared in lib/settings.ts (README
 * "Configuration"). A bad value becomes a ConfigError naming the variable.
 */
import { parsePeerList, type PeerAddress } from "./address";
import type { LogLevel } from "./log";
import { ConfigError, parseSettings, resolveCellId, SETTING_NAMES, SETTINGS, type RawEnv, type Settings } from "./settings";

export { ConfigError, defaultCellId, type RawEnv } from "./settings";

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
  modelTimeoutMs: number;
  mdns: boolean;
  /** The address other cells reach this one at. */
  advertiseHost: string;
  peerRemoveAfterSeconds: number;
  /** Which embedder recall uses. */
  embed: EmbedConfig;
  /** Relays this cell syncs through (AIOS_RELAY). */
  relays: string[];
  /** Every setting by its variable name, as parsed (AIOS_CELL_ID and AIOS_ADVERTISE_HOST resolved). */
  settings: Settings;
}

/** Recall by meaning: which embedder (lib/embed/client.ts). */
export interface EmbedConfig {
  /** `builtin`: the model that ships with the stack, run beside it by the launcher; `off`: no embeddings. */
  mode: "builtin" | "off";
  /** An OpenAI-compatible /v1/embeddings endpoint used instead of the built-in model. */
  url?: string;
  model?: string;
  apiKey?: string;
  timeoutMs?: number;
}

export interface ConfigDefaults {
  hostname: string;
  branch: string;
  /** This machine's LAN address, for AIOS_HOST=0.0.0.0. */
  lanAddress: string;
}

const PORT_VARIABLE = {
  cell: "AIOS_CELL_PORT",
  discovery: "DISCOVERY_PORT",
  bridge: "BRIDGE_PORT",
  metrics: "AIOS_METRICS_PORT",
} as const satisfies Record<keyof Ports, string>;

export function portVariable(service: string): string {
  return PORT_VARIABLE[service as keyof Ports];
}

/** What users set: the launcher sets the internal ones itself. */
const USER_SETTINGS = SETTING_NAMES.filter((n) => !SETTINGS[n].internal);

function isSet(env: RawEnv, name: string): boolean {
  const v = env[name];
  return typeof v === "string" && v.trim() !== "";
}

export function parseStackConfig(env: RawEnv, defaults: ConfigDefaults): StackConfig {
  const parsed = parseSettings(env, USER_SETTINGS);
  const cellId = resolveCellId(parsed, defaults.hostname);
  const ports: Ports = {
    cell: parsed.AIOS_CELL_PORT,
    discovery: parsed.DISCOVERY_PORT,
    bridge: parsed.BRIDGE_PORT,
    metrics: parsed.AIOS_METRICS_PORT,
  };
  const seen = new Map<number, string>();
  for (const [name, p] of Object.entries(ports)) {
    if (seen.has(p)) throw new ConfigError(portVariable(name), `port ${p} is also used by ${seen.get(p)}`);
    seen.set(p, name);
  }
  if (parsed.AIOS_VAULT_ADDR && !parsed.VAULT_TOKEN)
    throw new ConfigError("VAULT_TOKEN", "is required when AIOS_VAULT_ADDR is set");
  if (parsed.AIOS_EMBED_MODEL !== undefined && !parsed.AIOS_EMBED_URL)
    throw new ConfigError("AIOS_EMBED_MODEL", "needs AIOS_EMBED_URL (the endpoint that serves it)");
  const embed: EmbedConfig = {
    mode: parsed.AIOS_EMBED as EmbedConfig["mode"],
    ...(parsed.AIOS_EMBED_URL ? { url: parsed.AIOS_EMBED_URL } : {}),
    ...(parsed.AIOS_EMBED_MODEL ? { model: parsed.AIOS_EMBED_MODEL } : {}),
    ...(parsed.AIOS_EMBED_API_KEY ? { apiKey: parsed.AIOS_EMBED_API_KEY } : {}),
    ...(parsed.AIOS_EMBED_TIMEOUT_MS ? { timeoutMs: parsed.AIOS_EMBED_TIMEOUT_MS } : {}),
  };
  const relays = parsed.AIOS_RELAY.split(",").filter(Boolean);
  if (relays.length && !parsed.AIOS_CLUSTER_SECRET && !parsed.AIOS_VAULT_ADDR) {
    throw new ConfigError(
      "AIOS_RELAY",
      "needs AIOS_CLUSTER_SECRET: the relay admits cells, and cells seal content, with keys derived from it",
    );
  }
  const host = parsed.AIOS_HOST;
  const advertiseHost = isSet(env, "AIOS_ADVERTISE_HOST")
    ? parsed.AIOS_ADVERTISE_HOST
    : host === "0.0.0.0" || host === "::"
      ? defaults.lanAddress
      : host;
  const branch = isSet(env, "AIOS_BRANCH") ? parsed.AIOS_BRANCH : defaults.branch;
  const settings: Settings = {
    ...parsed,
    AIOS_CELL_ID: cellId,
    AIOS_BRANCH: branch,
    AIOS_HOSTNAME: defaults.hostname,
    AIOS_ADVERTISE_HOST: advertiseHost,
  };
  return {
    cellId,
    branch,
    hostname: defaults.hostname,
    host,
    bridgeHost: parsed.AIOS_BRIDGE_HOST,
    ports,
    cellAddr: parsed.AIOS_CELL_ADDR,
    networkPeers: parsePeerList(parsed.AIOS_NETWORK_PEERS),
    discoveryScan: parsed.AIOS_DISCOVERY_SCAN,
    dataDir: parsed.AIOS_DATA_DIR,
    logDir: parsed.AIOS_LOG_DIR,
    logLevel: parsed.AIOS_LOG_LEVEL,
    clusterSecret: parsed.AIOS_CLUSTER_SECRET,
    apiToken: parsed.AIOS_API_TOKEN,
    vaultAddr: parsed.AIOS_VAULT_ADDR,
    vaultToken: parsed.VAULT_TOKEN,
    vaultPath: parsed.AIOS_VAULT_PATH,
    prometheusAddr: parsed.AIOS_PROMETHEUS_ADDR,
    modelUrl: parsed.AIOS_MODEL_URL,
    model: parsed.AIOS_MODEL,
    modelApiKey: parsed.AIOS_MODEL_API_KEY,
    modelTimeoutMs: parsed.AIOS_MODEL_TIMEOUT_MS,
    mdns: parsed.AIOS_MDNS,
    advertiseHost,
    peerRemoveAfterSeconds: parsed.AIOS_PEER_REMOVE_AFTER,
    relays,
    embed,
    settings,
  };
}

// ---- the relay (`npm run relay`) ------------------------------------------------------------

export interface RelayConfig {
  host: string;
  port: number;
  dataDir: string;
  logLevel: LogLevel;
  /** The relay key as given (AIOS_RELAY_KEY), or undefined: derive it from `clusterSecret`. */
  relayKey?: string;
  clusterSecret?: string;
}

export function parseRelayConfig(env: RawEnv): RelayConfig {
  const parsed = parseSettings(env, [
    "AIOS_HOST",
    "AIOS_RELAY_PORT",
    "AIOS_DATA_DIR",
    "AIOS_LOG_LEVEL",
    "AIOS_RELAY_KEY",
    "AIOS_CLUSTER_SECRET",
  ]);
  if (parsed.AIOS_RELAY_KEY === undefined && parsed.AIOS_CLUSTER_SECRET === undefined) {
    throw new ConfigError("AIOS_RELAY_KEY", "is required (or AIOS_CLUSTER_SECRET, to derive it from)");
  }
  return {
    host: parsed.AIOS_HOST,
    port: parsed.AIOS_RELAY_PORT,
    dataDir: parsed.AIOS_DATA_DIR,
    logLevel: parsed.AIOS_LOG_LEVEL,
    ...(parsed.AIOS_RELAY_KEY ? { relayKey: parsed.AIOS_RELAY_KEY } : { clusterSecret: parsed.AIOS_CLUSTER_SECRET }),
  };
}
