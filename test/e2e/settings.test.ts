/** The one declaration of every variable, and what is derived from it: README's table, the workers' types and vars. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { configTable, envTypes, readmeTable } from "../../launcher/generate";
import { parseStackConfig } from "../../lib/config";
import { bindingsFor, ConfigError, SETTINGS } from "../../lib/settings";
import { vars } from "../../lib/vars";

const root = path.resolve(import.meta.dirname, "../..");
const DEFAULTS = { hostname: "Dev-Laptop", branch: "feature-x", lanAddress: "192.168.1.20" };

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("no ConfigError was thrown");
}

describe("derived files", () => {
  it("README's configuration table is the one the settings produce", () => {
    const readme = readFileSync(path.join(root, "README.md"), "utf8");
    expect(readmeTable(readme)).toBe(configTable());
  });

  it("the table lists every variable users set, and none of those the launcher sets for the workers", () => {
    const table = configTable();
    for (const [name, s] of Object.entries(SETTINGS)) {
      expect(table.includes(`| \`${name}\` |`), name).toBe(!s.internal);
    }
  });

  it("lib/env.generated.d.ts is the one the settings produce", () => {
    expect(readFileSync(path.join(root, "lib", "env.generated.d.ts"), "utf8")).toBe(envTypes());
  });
});

describe("the launcher's configuration", () => {
  it("defaults: the cell id is the host name, lower-cased; the branch is git's; peers are advertised at the LAN address", () => {
    const cfg = parseStackConfig({}, DEFAULTS);
    expect(cfg.cellId).toBe("dev-laptop");
    expect(cfg.branch).toBe("feature-x");
    expect(cfg.advertiseHost).toBe("192.168.1.20");
    expect(cfg.peerRemoveAfterSeconds).toBe(600);
    expect(cfg.modelTimeoutMs).toBe(30_000);
    expect(cfg.ports).toEqual({ cell: 8000, discovery: 8001, bridge: 3001, metrics: 9091 });
  });

  it("CELL_ID alone names the cell; both set, they must agree", () => {
    expect(parseStackConfig({ CELL_ID: "Desk" }, DEFAULTS).cellId).toBe("desk");
    expect(configError(() => parseStackConfig({ AIOS_CELL_ID: "a", CELL_ID: "b" }, DEFAULTS)).variable).toBe("CELL_ID");
  });

  it("AIOS_PEER_REMOVE_AFTER is read under its documented name and reaches discovery under the same name", () => {
    const cfg = parseStackConfig({ AIOS_PEER_REMOVE_AFTER: "45" }, DEFAULTS);
    expect(cfg.peerRemoveAfterSeconds).toBe(45);
    expect(bindingsFor("discovery", cfg.settings)["AIOS_PEER_REMOVE_AFTER"]).toBe("45");
    expect(configError(() => parseStackConfig({ AIOS_PEER_REMOVE_AFTER: "soon" }, DEFAULTS)).message).toBe(
      'AIOS_PEER_REMOVE_AFTER: expected a whole number of seconds, got "soon"',
    );
  });

  it("a bad value names the variable and what it expected", () => {
    expect(configError(() => parseStackConfig({ AIOS_MODEL_TIMEOUT_MS: "5s" }, DEFAULTS)).message).toBe(
      'AIOS_MODEL_TIMEOUT_MS: expected a whole number of milliseconds, got "5s"',
    );
    expect(configError(() => parseStackConfig({ AIOS_CELL_ADDR: "cell:8000" }, DEFAULTS)).message).toBe(
      'AIOS_CELL_ADDR: expected an http(s) URL, got "cell:8000"',
    );
    expect(configError(() => parseStackConfig({ AIOS_CELL_ID: "Not Valid!" }, DEFAULTS)).message).toBe(
      'AIOS_CELL_ID: expected 1-63 characters of a-z, 0-9, ".", "_", "-", got "Not Valid!"',
    );
    expect(configError(() => parseStackConfig({ AIOS_MDNS: "maybe" }, DEFAULTS)).variable).toBe("AIOS_MDNS");
    expect(configError(() => parseStackConfig({ AIOS_VAULT_PATH: "secret/../x" }, DEFAULTS)).variable).toBe("AIOS_VAULT_PATH");
  });

  it("each worker is given only the variables it sees; secrets go nowhere else", () => {
    const cfg = parseStackConfig(
      {
        AIOS_CLUSTER_SECRET: "s3cret",
        AIOS_MODEL_API_KEY: "sk-1",
        AIOS_VAULT_ADDR: "http://user:pw@vault.lan:8200",
        VAULT_TOKEN: "hvs.x",
      },
      DEFAULTS,
    );
    const cell = bindingsFor("cell", cfg.settings);
    const discovery = bindingsFor("discovery", cfg.settings);
    const bridge = bindingsFor("bridge", cfg.settings);
    expect(cell["AIOS_MODEL_API_KEY"]).toBe("sk-1");
    // Discovery admits peers with the cluster secret; the cell derives its relay keys from it.
    expect(cell["AIOS_CLUSTER_SECRET"]).toBe("s3cret");
    expect(discovery["AIOS_CLUSTER_SECRET"]).toBe("s3cret");
    expect(bridge["AIOS_CLUSTER_SECRET"]).toBeUndefined();
    expect(discovery["AIOS_MODEL_API_KEY"]).toBeUndefined();
    expect(bridge["AIOS_VAULT_ADDR"]).toBe("http://vault.lan:8200");
    for (const given of [cell, discovery, bridge, bindingsFor("metrics", cfg.settings)]) {
      expect(given["VAULT_TOKEN"]).toBeUndefined();
      expect(given["AIOS_DATA_DIR"]).toBeUndefined();
      expect(given["AIOS_CELL_ID"]).toBe("dev-laptop");
    }
  });
});

describe("the workers' variables", () => {
  it("parse with the same schemas and defaults", () => {
    const v = vars({ AIOS_HOSTNAME: "Dev-Laptop", AIOS_PEER_REMOVE_AFTER: "45" });
    expect(v.AIOS_CELL_ID).toBe("dev-laptop");
    expect(v.AIOS_PEER_REMOVE_AFTER).toBe(45);
    expect(v.AIOS_MODEL_TIMEOUT_MS).toBe(30_000);
    expect(vars({}).AIOS_CELL_ID).toBe("cell");
  });

  it("a bad value is refused with the variable's name, never replaced by the default", () => {
    expect(configError(() => vars({ AIOS_MODEL_TIMEOUT_MS: "0" })).message).toBe(
      'AIOS_MODEL_TIMEOUT_MS: expected a whole number of milliseconds, got "0"',
    );
  });
});
