/**
 * The variables every worker receives (from the launcher, or wrangler [vars]
 * and secrets when deployed), parsed once per isolate with zod.
 */
import { z } from "zod";
import { parseLogLevel } from "./log";

export const WorkerVarsSchema = z.object({
  AIOS_CELL_ID: z.string().min(1).default("cell"),
  AIOS_HOSTNAME: z.string().default("unknown"),
  AIOS_BRANCH: z.string().default("main"),
  AIOS_LOG_LEVEL: z.string().optional().transform(parseLogLevel),
  /** ms since epoch when the launcher (re)started the runtime. */
  AIOS_STARTED_AT: z.coerce.number().int().nonnegative().optional(),
  AIOS_API_TOKEN: z.string().optional(),
  AIOS_CLUSTER_SECRET: z.string().optional(),
  AIOS_NETWORK_PEERS: z.string().default(""),
  AIOS_DISCOVERY_SCAN: z.string().default(""),
  AIOS_CELL_PORT: z.coerce.number().int().default(8000),
  DISCOVERY_PORT: z.coerce.number().int().default(8001),
  BRIDGE_PORT: z.coerce.number().int().default(3001),
  AIOS_METRICS_PORT: z.coerce.number().int().default(9091),
  AIOS_MODEL_URL: z.string().optional(),
  AIOS_MODEL: z.string().optional(),
  AIOS_MODEL_API_KEY: z.string().optional(),
  AIOS_VAULT_ADDR: z.string().optional(),
  AIOS_VAULT_STATUS: z.string().optional(),
  AIOS_PROMETHEUS_ADDR: z.string().optional(),
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
