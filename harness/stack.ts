/**
 * Starts a real stack as a user would (`node bin/aios.mjs start`, the code
 * behind `npm start`) on a loopback address, and stops it by its PID.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AiosProcess } from "./process";

/** The project folder: the nearest parent with bin/aios.mjs (this file also runs bundled, from .build/). */
function findRoot(from: string): string {
  for (let dir = from; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "bin", "aios.mjs"))) return dir;
  }
  throw new Error(`no project folder above ${from}`);
}
export const ROOT = findRoot(import.meta.dirname);
export const PORTS = { cell: 8000, discovery: 8001, bridge: 3001, metrics: 9091 } as const;
export type Service = keyof typeof PORTS;

export interface StackOptions {
  ip: string;
  cellId?: string;
  env?: Record<string, string>;
  dir?: string;
  /** Working directory of the launcher (where it looks for .env); defaults to the stack's folder. */
  cwd?: string;
  waitReady?: boolean;
}

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(AIOS_|CELL_ID$|DISCOVERY_PORT$|BRIDGE_PORT$|VAULT_TOKEN$)/.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` until it is truthy or `timeoutMs` passes; bounded by construction. */
export async function until<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 20_000, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(stepMs);
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ""}`);
}

export class TestStack extends AiosProcess {
  private constructor(
    readonly opts: StackOptions,
    readonly dir: string,
    child: ChildProcess,
  ) {
    super(child);
  }

  static async start(opts: StackOptions): Promise<TestStack> {
    const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), "aios-e2e-"));
    const env = cleanEnv({
      AIOS_HOST: opts.ip,
      AIOS_BRIDGE_HOST: opts.ip,
      AIOS_DATA_DIR: path.join(dir, "data"),
      AIOS_LOG_DIR: path.join(dir, "logs"),
      AIOS_CELL_ID: opts.cellId ?? `cell-${opts.ip.replace(/\./g, "-")}`,
      AIOS_MDNS: "off",
      // The built-in embedding model is a second runtime that loads a model on the first write: only the
      // tests and benchmarks of recall ask for it (AIOS_EMBED: "builtin"), so the others keep their figures.
      AIOS_EMBED: "off",
      ...opts.env,
    });
    // As `npm start` runs it (package.json): a young generation of 1 MB keeps the idle launcher ~50 MB smaller.
    const child = spawn(process.execPath, ["--max-semi-space-size=1", path.join(ROOT, "bin", "aios.mjs"), "start"], {
      cwd: opts.cwd ?? dir,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so kill9() can take the launcher and its workerd down together.
      detached: true,
    });
    const stack = new TestStack(opts, dir, child);
    if (opts.waitReady !== false) {
      try {
        await stack.ready();
      } catch (e) {
        // A stack that never became ready is still running: stop it, or it holds its ports.
        await stack.stop().catch(() => undefined);
        throw e;
      }
    }
    return stack;
  }

  url(service: Service, p = ""): string {
    return `http://${this.opts.ip}:${PORTS[service]}${p}`;
  }

  get token(): string {
    return this.opts.env?.["AIOS_API_TOKEN"] ?? readFileSync(path.join(this.dir, "data", "api-token"), "utf8").trim();
  }

  async ready(timeoutMs = 30_000): Promise<void> {
    await until(async () => {
      if (this.exitCode !== undefined) throw new Error(`stack exited with ${this.exitCode}: ${this.output}`);
      // Its own launcher must say so: ports answering could be another process.
      if (!this.output.includes("aios: ready")) return false;
      const all = await Promise.all(
        (Object.keys(PORTS) as Service[]).map((s) =>
          fetch(this.url(s, "/health"))
            .then((r) => r.ok)
            .catch(() => false),
        ),
      );
      return all.every(Boolean);
    }, timeoutMs);
  }

  /** A request with the API token. */
  async api(p: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${this.token}`);
    if (init.body && !headers.has("content-type")) headers.set("content-type", "application/json");
    return fetch(this.url("cell", p), { ...init, headers });
  }

  /** A memory operation (`POST /memory/<op>`) with the API token; throws with the answer unless it succeeds. */
  async memory(op: string, body: unknown): Promise<unknown> {
    const r = await this.api(`/memory/${op}`, { method: "POST", body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`${op} on ${this.opts.ip}: ${r.status} ${await r.text()}`);
    return r.json();
  }

  /** The digest of this cell's replicated state (`GET /sync/state`). */
  async digest(): Promise<string> {
    return ((await (await this.api("/sync/state")).json()) as { digest: string }).digest;
  }

  async json<T = Record<string, unknown>>(service: Service, p: string): Promise<T> {
    const r = await fetch(this.url(service, p));
    return (await r.json()) as T;
  }
}

/** Waits until every stack holds the same consciousness (identical digests); answers that digest. */
export function converged(stacks: TestStack[], timeoutMs = 15_000): Promise<string> {
  return until(
    async () => {
      const d = await Promise.all(stacks.map((s) => s.digest()));
      return new Set(d).size === 1 && d[0];
    },
    timeoutMs,
    100,
  );
}
