/** The runtime's configuration as the launcher writes it for workerd. */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { capnpString, envName, runtimeWorker, workerdConfig } from "../../launcher/workerd-config";
import { readRelaySpec, readWorkerSpecs } from "../../launcher/workers";
import { ROOT } from "../../harness/stack";

const specs = readWorkerSpecs(ROOT);
const configDir = path.join(ROOT, ".build", "workers");
const script = (name: string) => path.join(configDir, `${name}.mjs`);

describe("the workerd configuration", () => {
  const workers = specs.map((s, i) =>
    runtimeWorker(
      s,
      script(s.service),
      { AIOS_API_TOKEN: 'tok"en\\ with spaces', AIOS_CELL_ID: "desk" },
      {
        host: "127.0.0.1",
        port: 8000 + i,
      },
    ),
  );
  const { text, env, sockets } = workerdConfig(workers, configDir, "/data/durable-objects");

  it("names each object namespace <worker>-<class>, the unique key earlier versions stored under", () => {
    for (const key of [
      "aios-cell-ConsciousnessState",
      "aios-cell-McpSessions",
      "aios-discovery-PeerRegistry",
      "aios-discovery-CellIdentity",
      "aios-metrics-MetricsStore",
    ]) {
      expect(text).toContain(`uniqueKey = "${key}", enableSql = true`);
    }
    // A class bound from another worker is that worker's, not a second namespace.
    expect(text.match(/uniqueKey = "[^"]*McpSessions"/g)).toHaveLength(1);
    expect(text).toContain(`durableObjectNamespace = (className = "McpSessions", serviceName = "aios-cell")`);
    expect(text).toContain(`disk = (path = "/data/durable-objects", writable = true)`);
  });

  it("keeps variables out of the file: each binding reads the workerd process's environment", () => {
    expect(text).not.toContain("tok");
    expect(text).toContain(`(name = "AIOS_API_TOKEN", fromEnvironment = "${envName("aios-cell", "AIOS_API_TOKEN")}")`);
    expect(env[envName("aios-bridge", "AIOS_API_TOKEN")]).toBe('tok"en\\ with spaces');
    expect(env[envName("aios-cell", "AIOS_CELL_ID")]).toBe("desk");
  });

  it("binds services by entrypoint, embeds each bundle by a path relative to the file, and opens one socket a worker", () => {
    expect(text).toContain(`(name = "CELL", service = (name = "aios-cell", entrypoint = "CellEntrypoint"))`);
    expect(text).toContain(`esModule = embed "cell.mjs"`);
    expect(sockets).toEqual(["cell", "discovery", "bridge", "metrics"]);
    expect(text).toContain(`(name = "cell", address = "127.0.0.1:8000", http = (), service = "aios-cell")`);
    // Peers on the LAN and loopback, relays on the internet.
    expect(text).toContain(`allow = ["public", "private", "local"]`);
  });

  it("refuses a binding to a worker it does not run, and objects without storage", () => {
    const relay = runtimeWorker(readRelaySpec(ROOT), script("relay"), {});
    expect(() => workerdConfig([relay], configDir)).toThrow(/no storage folder/);
    const bridge = workers.find((w) => w.name === "aios-bridge")!;
    expect(() => workerdConfig([bridge], configDir, "/d")).toThrow(/unknown service aios-cell/);
  });

  it("serves folders as services a worker binds, and passes V8 flags", () => {
    const reader = { ...runtimeWorker(readRelaySpec(ROOT), script("relay"), {}), classes: [], durableObjects: [] };
    reader.services = [{ binding: "MODEL", service: "model" }];
    const cfg = workerdConfig([reader], configDir, undefined, {
      v8Flags: ["--max-semi-space-size=1"],
      disks: [{ name: "model", path: "/models/use", writable: false }],
    });
    expect(cfg.text).toContain(`v8Flags = ["--max-semi-space-size=1"]`);
    expect(cfg.text).toContain(`(name = "model", disk = (path = "/models/use", writable = false))`);
    expect(cfg.text).toContain(`(name = "MODEL", service = (name = "model"))`);
  });

  it("writes strings as Cap'n Proto literals, whatever they hold", () => {
    expect(capnpString('a "b" \\c')).toBe('"a \\"b\\" \\\\c"');
    expect(capnpString("/home/zoë\n")).toBe('"/home/zo\\xc3\\xab\\x0a"');
  });
});
