/**
 * The variables every worker receives (from the launcher, or wrangler [vars]
 * and secrets when deployed), parsed once per isolate with zod.
 */
// zod/mini: every worker parses these, and the full zod would add ~450 KB to each isolate.
import * as z from "zod/mini";
import { parseLogLevel } from "./log";

const text = (fallback: string) => z._default(z.string().check(z.minLength(1)), fallback);
const port = (fallback: number) => z._default(z.coerce.number().check(z.int()), fallback);

export const WorkerVarsSchema = z.object({
  AIOS_CELL_ID: text("cell"),
  AIOS_HOSTNAME: text("unknown"),
  AIOS_BRANCH: text("main"),
  AIOS_LOG_LEVEL: z.pipe(z.optional(z.string()), z.transform(parseLogLevel)),
  /** ms since epoch when the launcher (re)started the runtime. */
  /** This boot of the runtime, and whether the launcher restarted it after a crash. */
  AIOS_BOOT_ID: z.optional(z.string()),
  AIOS_BOOT_REASON: z.optional(z.string()),
  AIOS_STARTED_AT: z.optional(z.coerce.number().check(z.int(), z.nonnegative())),
  AIOS_API_TOKEN: z.optional(z.string()),
  AIOS_CLUSTER_SECRET: z.optional(z.string()),
  AIOS_NETWORK_PEERS: z._default(z.string(), ""),
  /** The address other cells reach this one at (the launcher picks it from AIOS_HOST or the LAN interface). */
  AIOS_ADVERTISE_HOST: text("127.0.0.1"),
  AIOS_PEER_REMOVE_AFTER_SECONDS: z._default(z.coerce.number().check(z.int(), z.positive()), 600),
  AIOS_DISCOVERY_SCAN: z._default(z.string(), ""),
  AIOS_CELL_PORT: port(8000),
  DISCOVERY_PORT: port(8001),
  BRIDGE_PORT: port(3001),
  AIOS_METRICS_PORT: port(9091),
  AIOS_MODEL_URL: z.optional(z.string()),
  AIOS_MODEL: z.optional(z.string()),
  AIOS_MODEL_API_KEY: z.optional(z.string()),
  /** How long the cell waits for the model, in ms; a bad value means the default (30 s), never a broken worker. */
  AIOS_MODEL_TIMEOUT_MS: z.catch(z.optional(z.coerce.number().check(z.int(), z.positive())), undefined),
  AIOS_VAULT_ADDR: z.optional(z.string()),
  AIOS_VAULT_STATUS: z.optional(z.string()),
  /** Comma-separated names (never values) of the secrets the launcher read from Vault. */
  AIOS_VAULT_KEYS: z._default(z.string(), ""),
  /** Why Vault could not be used (no secrets in it). */
  AIOS_VAULT_PROBLEM: z.optional(z.string()),
  AIOS_PROMETHEUS_ADDR: z.optional(z.string()),

  // ---- recall by meaning: the embedder (lib/embed/client.ts) ----
  /** `builtin` (default) or `off`. */
  AIOS_EMBED: z.optional(z.string()),
  /** An OpenAI-compatible /v1/embeddings endpoint to use instead of the built-in model. */
  AIOS_EMBED_URL: z.optional(z.string()),
  AIOS_EMBED_MODEL: z.optional(z.string()),
  AIOS_EMBED_API_KEY: z.optional(z.string()),
  /** How long the cell waits for the embedder, in ms; a bad value means the default (30 s). */
  AIOS_EMBED_TIMEOUT_MS: z.catch(z.optional(z.coerce.number().check(z.int(), z.positive())), undefined),
  /** Set by the launcher: where the built-in model's runtime listens (workers/embed). */
  AIOS_EMBED_BUILTIN_URL: z.optional(z.string()),
});

export type WorkerVars = z.infer<typeof WorkerVarsSchema>;

const cache = new WeakMap<object, WorkerVars>();
// Set lazily: workerd freezes the clock during global scope.
let isolateStart: number | undefined;

export function vars(env: object): WorkerVars {
  let v = cache.get(env);
  if (!v) {
    const picked: Record<string, unknown> = {};
    for (const key of Object.keys(WorkerVarsSchema.shape)) {
      const value = (env as Record<string, unknown>)[key];
      if (typeof value === "string" && value !== "") picked[key] = value;
    }
    v = WorkerVarsSchema.parse(picked);
    cache.set(env, v);
  }
  return v;
}

/** Seconds since the runtime started (the launcher tells us when; deployed, the isolate start). */
export function uptimeSeconds(v: WorkerVars, now = Date.now()): number {
  isolateStart ??= now;
  const start = v.AIOS_STARTED_AT ?? isolateStart;
  return Math.max(0, Math.round((now - start) / 1000));
}
