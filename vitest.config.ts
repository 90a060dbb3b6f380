import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import path from "node:path";
import type { WorkerOptions } from "miniflare";
import { defineConfig } from "vitest/config";
import { miniflareOptions } from "./launcher/miniflare-options.ts";
import { runtimeWorker } from "./launcher/workerd-config.ts";
import { bundleWorkers, readWorkerSpecs } from "./launcher/workers.ts";

// Two layers: unit/integration tests inside workerd, and end-to-end tests in
// Node that start real stacks with the launcher and talk to them over sockets.
// In the unit layer the cell (from wrangler.toml) is SELF; the other three
// workers run beside it from their own wrangler.toml files, as in `npm start`.
const root = import.meta.dirname;
const UNIT_VARS = {
  AIOS_CELL_ID: "unit-cell",
  AIOS_API_TOKEN: "unit-token",
  AIOS_LOG_LEVEL: "error",
  AIOS_HOSTNAME: "unit-host",
};

/** Durable Objects of the other workers, bound in the test worker so tests can run them and their alarms. */
const UNIT_OBJECTS = {
  TEST_PEERS: { className: "PeerRegistry", useSQLite: true },
  TEST_IDENTITY: { className: "CellIdentity", useSQLite: true },
  TEST_METRICS: { className: "MetricsStore", useSQLite: true },
  // The relay's object (test/unit/relay-replica.test.ts), with its relay key below.
  TEST_RELAY: { className: "RelayReplica", useSQLite: true },
};
const UNIT_RELAY_KEY = "unit-relay-key-0123456789abcdefghijklmnopqrs";

// The pool runs the cell under its own worker name; the other workers' bindings to "aios-cell"
// (services and Durable Objects) follow it.
const RUNNER = "vitest-pool-workers-runner-unit";
function pointAtRunner(options: WorkerOptions): WorkerOptions {
  const services = Object.entries(options.serviceBindings ?? {}).map(([k, v]) => [
    k,
    typeof v === "object" && v !== null && "name" in v && v.name === "aios-cell" ? { ...v, name: RUNNER } : v,
  ]);
  const objects = Object.entries(options.durableObjects ?? {}).map(([k, v]) => [
    k,
    typeof v === "object" && v !== null && "scriptName" in v && v.scriptName === "aios-cell" ? { ...v, scriptName: RUNNER } : v,
  ]);
  return {
    ...options,
    serviceBindings: Object.fromEntries(services) as WorkerOptions["serviceBindings"],
    durableObjects: Object.fromEntries(objects) as WorkerOptions["durableObjects"],
  };
}

export default defineConfig(async () => {
  const specs = readWorkerSpecs(root).filter((s) => s.service !== "cell");
  const scripts = await bundleWorkers(specs, path.join(root, ".build", "unit-workers"));
  return {
    test: {
      globalSetup: ["./harness/scratch.ts"],
      projects: [
        {
          plugins: [
            cloudflareTest({
              main: "./test/unit/worker.ts",
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: { ...UNIT_VARS, AIOS_RELAY_KEY: UNIT_RELAY_KEY },
                // Tests only: the other workers' objects in the test isolate, and their HTTP entries.
                durableObjects: UNIT_OBJECTS,
                serviceBindings: { DISCOVERY_HTTP: "aios-discovery", BRIDGE_HTTP: "aios-bridge", METRICS_HTTP: "aios-metrics" },
                workers: specs.map((s) => pointAtRunner(miniflareOptions(runtimeWorker(s, scripts.get(s.service)!, UNIT_VARS)))),
              },
            }),
          ],
          test: { name: "unit", include: ["test/unit/**/*.test.ts"] },
        },
        {
          // The VS Code extension's own logic (no VS Code needed): plain Node.
          test: { name: "vscode", include: ["vscode/test/**/*.test.ts"], environment: "node" },
        },
        {
          // Node code (launcher, benchmark helpers) tested in Node, without starting stacks.
          test: { name: "node", include: ["test/node/**/*.test.ts"], environment: "node" },
        },
        {
          test: {
            name: "e2e",
            include: ["test/e2e/**/*.test.ts"],
            environment: "node",
            testTimeout: 60_000,
            hookTimeout: 60_000,
            fileParallelism: false,
          },
        },
      ],
    },
  };
});
