/**
 * Miniflare options for a worker, for the unit tests (@cloudflare/vitest-pool-workers runs the other
 * workers of a stack beside the one under test). They come from the same description of the worker that
 * `npm start` gives workerd (workerd-config.ts `runtimeWorker`), so tests and the stack bind alike.
 */
import path from "node:path";
import type { WorkerOptions } from "miniflare";
import type { RuntimeWorker } from "./workerd-config";

export function miniflareOptions(w: RuntimeWorker): WorkerOptions {
  const script = w.modules[0]!.path;
  const durableObjects: NonNullable<WorkerOptions["durableObjects"]> = {};
  for (const d of w.durableObjects) {
    durableObjects[d.binding] = d.scriptName
      ? { className: d.className, scriptName: d.scriptName }
      : { className: d.className, useSQLite: w.classes.find((c) => c.className === d.className)?.sql ?? false };
  }
  const serviceBindings: NonNullable<WorkerOptions["serviceBindings"]> = {};
  for (const s of w.services)
    serviceBindings[s.binding] = s.entrypoint ? { name: s.service, entrypoint: s.entrypoint } : s.service;
  return {
    name: w.name,
    modules: true,
    scriptPath: script,
    modulesRoot: path.dirname(script),
    compatibilityDate: w.compatibilityDate,
    compatibilityFlags: w.compatibilityFlags,
    bindings: w.vars,
    durableObjects,
    serviceBindings,
    ...(w.socket ? { unsafeDirectSockets: [{ host: w.socket.host, port: w.socket.port }] } : {}),
  };
}
