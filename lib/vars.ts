/**
 * The variables every worker receives (from the launcher, or wrangler [vars]
 * and secrets when deployed), parsed once per isolate with the schemas of
 * lib/settings.ts. A bad value is a ConfigError naming the variable (the
 * launcher refuses it before any worker runs; a deployed worker fails loudly
 * rather than running with a value nobody set).
 */
import type { WorkerVarName } from "./env.generated";
import { parseSettings, resolveCellId, SETTING_NAMES, SETTINGS, type Settings } from "./settings";

/** What a worker reads: the settings some worker sees, AIOS_CELL_ID resolved. */
export type WorkerVars = Omit<Pick<Settings, WorkerVarName>, "AIOS_CELL_ID"> & { AIOS_CELL_ID: string };

const WORKER_VAR_NAMES = SETTING_NAMES.filter((n) => SETTINGS[n].workers.length > 0) as WorkerVarName[];

const cache = new WeakMap<object, WorkerVars>();
// Set lazily: workerd freezes the clock during global scope.
let isolateStart: number | undefined;

export function vars(env: object): WorkerVars {
  let v = cache.get(env);
  if (!v) {
    const raw = env as Record<string, unknown>;
    const s = parseSettings(raw, WORKER_VAR_NAMES);
    const hostname = typeof raw["AIOS_HOSTNAME"] === "string" ? raw["AIOS_HOSTNAME"] : undefined;
    v = { ...s, AIOS_CELL_ID: resolveCellId(s, hostname) };
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
