/**
 * Every environment variable of the stack, declared once: its name, its zod
 * schema (type, check and default), what it means and which workers see it.
 * Everything else is derived from this list: the launcher's validation
 * (lib/config.ts), the workers' parsed variables (lib/vars.ts), the vars each
 * worker is given, the workers' typed `Env` (lib/env.generated.d.ts) and
 * README's configuration table (both written by `npm run types`).
 */
// zod/mini: every worker parses these, and the full zod would add ~450 KB to each isolate.
import * as z from "zod/mini";
import { parsePeerList, parsePort } from "./address";
import { LOG_LEVELS } from "./log";
import { parseRelayList } from "./relay-config";

export const WORKERS = ["cell", "discovery", "bridge", "metrics"] as const;
export type WorkerName = (typeof WORKERS)[number];

/** A variable's raw text: set and not blank, or undefined. */
type Raw = string | undefined;

interface Doc {
  /** What it means, for README (Markdown). */
  meaning: string;
  /** The default as README states it (Markdown); "none" for an optional variable. */
  default: string;
  /** The workers it is passed to; [] = the launcher alone reads it. */
  workers: readonly WorkerName[];
  /** Set by the launcher for the workers, never by users: not in README's table. */
  internal?: true;
  /** Its value never appears in messages, logs or API responses. */
  secret?: true;
  /** How a value is handed to the workers, when not as String(value). */
  toWorker?: (value: never) => string;
}

export type Setting = Doc & { schema: z.ZodMiniType<unknown, Raw> };

/** A schema for text that `parse` turns into a value, or refuses (undefined) with "expected …, got …". */
function rule<T>(expected: string, parse: (raw: string) => T | undefined) {
  return z.pipe(
    z.string(),
    z.transform((raw: string, ctx) => {
      const value = parse(raw);
      if (value !== undefined) return value;
      ctx.issues.push({ code: "custom", message: `expected ${expected}, got "${raw}"`, input: raw });
      return z.NEVER;
    }),
  );
}

const text = rule("some text", (raw) => raw);
const CELL_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const cellId = rule(`1-63 characters of a-z, 0-9, ".", "_", "-"`, (raw) => {
  const id = raw.toLowerCase();
  return CELL_ID.test(id) ? id : undefined;
});
const port = (fallback: number) => z._default(rule("a port number 1-65535", parsePort), fallback);
const whole = (unit: string) =>
  rule(`a whole number of ${unit}`, (raw) => (/^\d+$/.test(raw) && Number(raw) >= 1 ? Number(raw) : undefined));
/** Relay URLs, normalised and comma-joined (lib/relay-config.ts says what is accepted). */
const relayList = z.pipe(
  z.string(),
  z.transform((raw: string, ctx) => {
    try {
      return parseRelayList(raw).join(",");
    } catch (e) {
      ctx.issues.push({ code: "custom", message: (e as Error).message, input: raw });
      return z.NEVER;
    }
  }),
);
const relayKey = rule("the 43 characters `npm run relay-key` prints", (raw) =>
  /^[A-Za-z0-9_-]{43}$/.test(raw) ? raw : undefined,
);
const httpUrl = rule("an http(s) URL", (raw) => {
  try {
    const u = new URL(raw);
    return u.protocol === "http:" || u.protocol === "https:" ? raw.replace(/\/+$/, "") : undefined;
  } catch {
    return undefined;
  }
});
const bindHost = rule("an IP address or host name", (raw) => (/^[0-9a-z.:-]+$/i.test(raw) ? raw : undefined));
const VAULT_PATH = /^[A-Za-z0-9_-][A-Za-z0-9._/-]{0,511}$/;
const vaultPath = rule(
  `a KV v2 API path <mount>/data/<name> like secret/data/aios (no leading or trailing "/", no "..", letters, digits, "._-/")`,
  (raw) =>
    VAULT_PATH.test(raw) && raw.includes("/data/") && raw.split("/").every((seg) => seg !== "" && seg !== "." && seg !== "..")
      ? raw
      : undefined,
);
const peerList = z.pipe(
  z.string(),
  z.transform((raw: string, ctx) => {
    try {
      return parsePeerList(raw)
        .map((p) => p.url)
        .join(",");
    } catch (e) {
      ctx.issues.push({
        code: "custom",
        message: `${(e as Error).message}; expected host, host:port or http://host:port`,
        input: raw,
      });
      return z.NEVER;
    }
  }),
);
const onOff = rule("on or off", (raw) => {
  const v = raw.toLowerCase();
  return ["on", "true", "1"].includes(v) ? true : ["off", "false", "0"].includes(v) ? false : undefined;
});
const logLevel = rule(`one of ${LOG_LEVELS.join(", ")}`, (raw) => {
  const v = raw.toLowerCase();
  return LOG_LEVELS.find((l) => l === v);
});

/** The address without any user:password part (it goes to the workers as a plain var). */
export function publicAddress(addr: string): string {
  try {
    const u = new URL(addr);
    u.username = "";
    u.password = "";
    return u.toString().replace(/\/+$/, "");
  } catch {
    return "";
  }
}

const ALL = WORKERS;
const PORTS_SEEN_BY = ["cell", "discovery", "bridge"] as const;

function setting<S extends z.ZodMiniType<unknown, Raw>>(schema: S, doc: Doc): Doc & { schema: S } {
  return { schema, ...doc };
}

/** In README's order. */
export const SETTINGS = {
  AIOS_CELL_ID: setting(z.optional(cellId), {
    meaning: "this cell's unique id (a-z, 0-9, `.`, `_`, `-`; two machines must never share one)",
    default: "the host name, lower-cased (a deployed worker, which has none: `cell`)",
    workers: ALL,
  }),
  CELL_ID: setting(z.optional(cellId), {
    meaning: "discovery's id for this cell; must equal `AIOS_CELL_ID` if both are set",
    default: "`AIOS_CELL_ID`",
    workers: ["discovery"],
  }),
  AIOS_BRANCH: setting(z._default(text, "main"), {
    meaning: "the branch this cell reports in `/health`",
    default: "the git branch of the project folder (a deployed worker: `main`)",
    workers: ["cell", "discovery"],
  }),
  AIOS_NETWORK_PEERS: setting(z._default(peerList, ""), {
    meaning: "comma-separated seed peers: `host`, `host:port` or `http://host:port`",
    default: "none",
    workers: ["discovery"],
  }),
  AIOS_HOST: setting(z._default(bindHost, "0.0.0.0"), {
    meaning: "bind address of cell, discovery and metrics",
    default: "`0.0.0.0`",
    workers: [],
  }),
  AIOS_BRIDGE_HOST: setting(z._default(bindHost, "127.0.0.1"), {
    meaning: "bind address of the bridge",
    default: "`127.0.0.1`",
    workers: [],
  }),
  AIOS_CELL_PORT: setting(port(8000), { meaning: "the cell's port", default: "8000", workers: PORTS_SEEN_BY }),
  DISCOVERY_PORT: setting(port(8001), { meaning: "discovery's port", default: "8001", workers: PORTS_SEEN_BY }),
  BRIDGE_PORT: setting(port(3001), { meaning: "the bridge's port", default: "3001", workers: PORTS_SEEN_BY }),
  AIOS_METRICS_PORT: setting(port(9091), { meaning: "the metrics port", default: "9091", workers: PORTS_SEEN_BY }),
  AIOS_CELL_ADDR: setting(z.optional(httpUrl), {
    meaning:
      "no longer used (the bridge always reaches the cell of its own stack, through a service binding); accepted for old scripts, with a warning at start",
    default: "none",
    workers: [],
  }),
  AIOS_DATA_DIR: setting(z._default(text, "./data"), {
    meaning: "persistent state: the Durable Objects' SQLite files, the API token, and which runtime processes run on it",
    default: "`./data`",
    workers: [],
  }),
  AIOS_LOG_DIR: setting(z._default(text, "./logs"), {
    meaning: "JSON-lines log files, one per day (`aios-YYYY-MM-DD.log`, rolled at 20 MB)",
    default: "`./logs`",
    workers: [],
  }),
  AIOS_LOG_LEVEL: setting(z._default(logLevel, "info"), {
    meaning: "`debug`, `info`, `warn`, `error`",
    default: "`info`",
    workers: ALL,
  }),
  AIOS_CLUSTER_SECRET: setting(z.optional(text), {
    meaning: "shared secret that admits a cell into the network (and, through a relay, encrypts what it carries)",
    default: "none",
    // Discovery admits with it; the cell derives the relay's and the content's keys from it.
    workers: ["discovery", "cell"],
    secret: true,
  }),
  AIOS_API_TOKEN: setting(z.optional(text), {
    meaning: "bearer token for non-public REST calls",
    default: "generated on first start into `$AIOS_DATA_DIR/api-token` (mode 0600)",
    workers: ALL,
    secret: true,
  }),
  AIOS_DISCOVERY_SCAN: setting(z._default(text, ""), {
    meaning: "CIDRs or ranges to scan for cells, e.g. `192.168.1.0/24`",
    default: "none",
    workers: ["discovery"],
  }),
  AIOS_MDNS: setting(z._default(onOff, true), {
    meaning: "`on` / `off`: advertise and browse over mDNS",
    default: "`on`",
    workers: [],
  }),
  AIOS_ADVERTISE_HOST: setting(z._default(bindHost, "127.0.0.1"), {
    meaning: "the address other cells reach this one at",
    default: "`AIOS_HOST`, or the first LAN IPv4 address when that is `0.0.0.0` (a deployed worker: `127.0.0.1`)",
    workers: ["discovery", "bridge"],
  }),
  AIOS_PEER_REMOVE_AFTER: setting(z._default(whole("seconds"), 600), {
    meaning: "seconds a dead peer stays listed before it is removed",
    default: "600",
    workers: ["discovery"],
  }),
  AIOS_VAULT_ADDR: setting(z.optional(httpUrl), {
    meaning:
      "HashiCorp Vault (KV v2) holding the secrets above (see below); the bridge's `/vault-status` shows it without any credentials",
    default: "none",
    workers: ["bridge"],
    toWorker: publicAddress as (value: never) => string,
  }),
  VAULT_TOKEN: setting(z.optional(text), {
    meaning: "the token for `AIOS_VAULT_ADDR`; required when that is set",
    default: "none",
    workers: [],
    secret: true,
  }),
  AIOS_VAULT_PATH: setting(z._default(vaultPath, "secret/data/aios"), {
    meaning: "the secret's KV v2 API path, `<mount>/data/<name>`",
    default: "`secret/data/aios`",
    workers: [],
  }),
  AIOS_PROMETHEUS_ADDR: setting(z.optional(httpUrl), {
    meaning: "a Prometheus server the dashboard may query for history",
    default: "none",
    workers: ["cell"],
  }),
  AIOS_MODEL_URL: setting(z.optional(httpUrl), {
    meaning: "an OpenAI-compatible chat endpoint for code assistance",
    default: "none",
    workers: ["cell"],
  }),
  AIOS_MODEL: setting(z.optional(text), {
    meaning: "the model to ask at `AIOS_MODEL_URL` (unset for single-model servers)",
    default: "none",
    workers: ["cell"],
  }),
  AIOS_MODEL_API_KEY: setting(z.optional(text), {
    meaning: "the API key for `AIOS_MODEL_URL`",
    default: "none",
    workers: ["cell"],
    secret: true,
  }),
  AIOS_MODEL_TIMEOUT_MS: setting(z._default(whole("milliseconds"), 30_000), {
    meaning: "how long one model call may take, in ms",
    default: "30000",
    workers: ["cell"],
  }),
  AIOS_RELAY: setting(z._default(relayList, ""), {
    meaning:
      "comma-separated relay URLs to sync through beyond the LAN (`https://`; `http://` for loopback only); needs `AIOS_CLUSTER_SECRET` ([docs/relay.md](docs/relay.md))",
    default: "none",
    workers: ["cell"],
  }),
  AIOS_RELAY_PORT: setting(port(8787), {
    meaning: "for `npm run relay`: the relay's port (it binds `AIOS_HOST`)",
    default: "8787",
    workers: [],
  }),
  AIOS_RELAY_KEY: setting(z.optional(relayKey), {
    meaning:
      "for `npm run relay`: the key that admits cells (`npm run relay-key` prints it); derived from `AIOS_CLUSTER_SECRET` when unset",
    default: "derived from `AIOS_CLUSTER_SECRET`",
    workers: [],
    secret: true,
  }),
  // Recall by meaning (docs/recall.md).
  AIOS_EMBED: setting(
    z._default(
      rule("builtin or off", (raw) => (raw === "builtin" || raw === "off" ? raw : undefined)),
      "builtin",
    ),
    {
      meaning: "`builtin`: the embedding model that ships with the stack; `off`: no embeddings (recall answers from words)",
      default: "`builtin`",
      workers: ["cell"],
    },
  ),
  AIOS_EMBED_URL: setting(z.optional(httpUrl), {
    meaning: "an OpenAI-compatible `/v1/embeddings` endpoint to use instead of the built-in model",
    default: "none",
    workers: ["cell"],
  }),
  AIOS_EMBED_MODEL: setting(z.optional(text), {
    meaning: "the model to ask at `AIOS_EMBED_URL`",
    default: "none",
    workers: ["cell"],
  }),
  AIOS_EMBED_API_KEY: setting(z.optional(text), {
    meaning: "the key for `AIOS_EMBED_URL`, sent as a bearer token",
    default: "none",
    workers: ["cell"],
    secret: true,
  }),
  AIOS_EMBED_TIMEOUT_MS: setting(z.optional(whole("milliseconds")), {
    meaning: "how long one call to the embedder may take, in ms",
    default: "the embedder's own (a query waits at most 5 s)",
    workers: ["cell"],
  }),
  AIOS_EMBED_BUILTIN_URL: setting(z.optional(httpUrl), {
    meaning: "where the launcher runs the built-in embedding model",
    default: "none",
    workers: ["cell"],
    internal: true,
  }),
  // Set by the launcher for the workers.
  AIOS_HOSTNAME: setting(z._default(text, "unknown"), {
    meaning: "the machine's host name, as /health reports it",
    default: "`unknown`",
    workers: ["cell", "discovery"],
    internal: true,
  }),
  AIOS_STARTED_AT: setting(z.optional(rule("ms since the epoch", (raw) => (/^\d+$/.test(raw) ? Number(raw) : undefined))), {
    meaning: "when the launcher (re)started the runtime, in ms since the epoch (deployed: the isolate's start)",
    default: "none",
    workers: ["cell", "metrics"],
    internal: true,
  }),
  AIOS_BOOT_ID: setting(z.optional(text), {
    meaning: "this boot of the runtime",
    default: "none",
    workers: ["metrics"],
    internal: true,
  }),
  AIOS_BOOT_REASON: setting(z.optional(text), {
    meaning: "`start`, or `restart` when the launcher restarted the runtime after a crash",
    default: "none",
    workers: ["metrics"],
    internal: true,
  }),
  AIOS_VAULT_STATUS: setting(z.optional(text), {
    meaning: "`available`, `unavailable` or `not_configured`: what the launcher found in Vault",
    default: "none",
    workers: ["bridge"],
    internal: true,
  }),
  AIOS_VAULT_KEYS: setting(z._default(text, ""), {
    meaning: "comma-separated names (never values) of the secrets the launcher read from Vault",
    default: "none",
    workers: ["bridge"],
    internal: true,
  }),
  AIOS_VAULT_PROBLEM: setting(z.optional(text), {
    meaning: "why Vault could not be used (no secrets in it)",
    default: "none",
    workers: ["bridge"],
    internal: true,
  }),
};

export type SettingName = keyof typeof SETTINGS;
type Schemas = { [K in SettingName]: (typeof SETTINGS)[K]["schema"] };
export type Settings = { [K in SettingName]: z.output<Schemas[K]> };

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

export type RawEnv = Record<string, unknown>;

export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

/** The names one worker sees, in declaration order. */
export function namesSeenBy(worker: WorkerName): SettingName[] {
  return SETTING_NAMES.filter((n) => SETTINGS[n].workers.includes(worker));
}

/** A zod object over some of the settings (each parsed from its raw text). */
export function settingsSchema<K extends SettingName>(names: readonly K[]) {
  const shape = {} as { [P in K]: Schemas[P] };
  for (const n of names) shape[n] = SETTINGS[n].schema as Schemas[K];
  return z.object(shape);
}

/** Parses the named settings from `env` (trimmed; blank = unset); a bad value becomes a ConfigError naming the first bad variable. */
export function parseSettings<K extends SettingName>(env: RawEnv, names: readonly K[]): { [P in K]: Settings[P] } {
  const picked: Record<string, string> = {};
  for (const n of names) {
    const v = env[n];
    if (typeof v === "string" && v.trim() !== "") picked[n] = v.trim();
  }
  const result = settingsSchema(names).safeParse(picked);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = String(issue.path[0]);
    const secret = SETTINGS[name as SettingName]?.secret;
    throw new ConfigError(name, secret ? "is not valid" : issue.message);
  }
  return result.data as { [P in K]: Settings[P] };
}

/**
 * The cell's id: AIOS_CELL_ID, else discovery's CELL_ID, else the host name lower-cased (`cell` where
 * there is no host name). Both set, they must agree.
 */
export function resolveCellId(s: { AIOS_CELL_ID?: string; CELL_ID?: string }, hostname: string | undefined): string {
  if (s.AIOS_CELL_ID !== undefined && s.CELL_ID !== undefined && s.CELL_ID !== s.AIOS_CELL_ID) {
    throw new ConfigError("CELL_ID", `must equal AIOS_CELL_ID ("${s.AIOS_CELL_ID}") when both are set, got "${s.CELL_ID}"`);
  }
  return s.AIOS_CELL_ID ?? s.CELL_ID ?? defaultCellId(hostname ?? "");
}

export function defaultCellId(hostname: string): string {
  const id = hostname
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, "-")
    .replace(/^[^a-z0-9]+/, "");
  return (id || "cell").slice(0, 63);
}

/** The vars one worker is given: every setting it sees that has a value, as text. */
export function bindingsFor(worker: WorkerName, values: Partial<Record<SettingName, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of namesSeenBy(worker)) {
    const v = values[name];
    if (v === undefined || v === "") continue;
    const toWorker = SETTINGS[name].toWorker as ((value: unknown) => string) | undefined;
    const text = toWorker ? toWorker(v) : String(v);
    if (text !== "") out[name] = text;
  }
  return out;
}
