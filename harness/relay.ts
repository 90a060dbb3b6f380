/** Starts the relay as a user would (`node bin/aios.mjs relay`, the code behind `npm run relay`), and stops it by its PID. */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AiosProcess } from "./process";
import { ROOT, until } from "./stack";

export const RELAY_PORT = 8787;

export class TestRelay extends AiosProcess {
  private constructor(
    readonly ip: string,
    readonly dir: string,
    child: ChildProcess,
  ) {
    super(child);
  }

  /** `env` is AIOS_CLUSTER_SECRET or AIOS_RELAY_KEY (and anything else); `dir` reuses a relay's data. */
  static async start(ip: string, env: Record<string, string>, dir?: string): Promise<TestRelay> {
    const folder = dir ?? mkdtempSync(path.join(os.tmpdir(), "aios-relay-"));
    const clean: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AIOS_")) clean[k] = v;
    const child = spawn(process.execPath, [path.join(ROOT, "bin", "aios.mjs"), "relay"], {
      cwd: folder,
      env: { ...clean, AIOS_HOST: ip, AIOS_DATA_DIR: path.join(folder, "data"), AIOS_LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const relay = new TestRelay(ip, folder, child);
    try {
      await until(async () => {
        if (relay.exitCode !== undefined) throw new Error(`relay exited with ${relay.exitCode}: ${relay.output}`);
        if (!relay.output.includes("aios: relay listening")) return false;
        return (await fetch(relay.url("/health"))).ok;
      }, 30_000);
    } catch (e) {
      await relay.stop().catch(() => undefined);
      throw e;
    }
    return relay;
  }

  url(p = ""): string {
    return `http://${this.ip}:${RELAY_PORT}${p}`;
  }

  async health(): Promise<Record<string, unknown>> {
    return (await (await fetch(this.url("/health"))).json()) as Record<string, unknown>;
  }
}
