/**
 * One workerd process run directly: its configuration written beside the bundles (workerd-config.ts),
 * ready once every socket listens (workerd says so on a control pipe), its output handed to the
 * caller, and stopped with SIGTERM (SIGKILL after a grace period). Nothing else stays in the
 * launcher's memory while it runs.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { RuntimeConfig } from "./workerd-config";

const STOP_GRACE_MS = 3000;
const READY_TIMEOUT_MS = 60_000;
/** Lines of the runtime's error output kept to explain a failed start. */
const KEPT_LINES = 20;

/** The workerd binary of the `workerd` package (the one wrangler and the tests use too). */
export function workerdBinary(): string {
  const require = createRequire(import.meta.url);
  const resolved = require("workerd") as string | { default: string };
  return typeof resolved === "string" ? resolved : resolved.default;
}

export interface RuntimeOptions {
  /** Names the configuration file: `<configDir>/<name>-<launcher pid>.capnp`. */
  name: string;
  /** Where the configuration file goes; the modules' paths in it are relative to this folder. */
  configDir: string;
  config: RuntimeConfig;
  /** The runtime's output; called once, before it starts. */
  output: (stdout: Readable, stderr: Readable) => void;
  /** Called when the runtime exits without being asked to. */
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
  readyTimeoutMs?: number;
  /** A lower scheduling priority for the runtime (a nice value above 0), where the system allows it. */
  nice?: number;
}

export class WorkerdProcess {
  readonly ready: Promise<void>;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private stopping = false;

  constructor(opts: RuntimeOptions) {
    mkdirSync(opts.configDir, { recursive: true });
    const file = path.join(opts.configDir, `${opts.name}-${process.pid}.capnp`);
    writeFileSync(file, opts.config.text);
    this.child = spawn(workerdBinary(), ["serve", "--experimental", "--control-fd=3", file], {
      cwd: opts.configDir,
      env: { ...opts.config.env, ...(process.env["TZ"] ? { TZ: process.env["TZ"] } : {}) },
      stdio: ["ignore", "pipe", "pipe", "pipe"],
    });
    if (opts.nice && this.child.pid !== undefined) {
      try {
        os.setPriority(this.child.pid, opts.nice);
      } catch {
        // not allowed here: it runs at the launcher's priority
      }
    }
    const lastErrors: string[] = [];
    const stdout = this.child.stdout!;
    const stderr = this.child.stderr!;
    createInterface({ input: stderr }).on("line", (line) => {
      lastErrors.push(line);
      if (lastErrors.length > KEPT_LINES) lastErrors.shift();
    });
    opts.output(stdout, stderr);
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        if (!this.stopping) opts.onExit?.(code, signal);
        resolve();
      });
    });
    this.ready = new Promise<void>((resolve, reject) => {
      const waiting = new Set(opts.config.sockets);
      const fail = (why: string) => {
        clearTimeout(timer);
        reject(new Error(`${why}${lastErrors.length ? `: ${lastErrors.join(" | ")}` : ""}`));
      };
      const timer = setTimeout(() => fail("the runtime did not listen in time"), opts.readyTimeoutMs ?? READY_TIMEOUT_MS);
      this.child.once("error", (e) => fail(`the runtime could not be started (${e.message})`));
      this.child.once("exit", (code, signal) => fail(`the runtime exited while starting (${signal ?? `code ${code}`})`));
      createInterface({ input: this.child.stdio[3] as Readable }).on("line", (line) => {
        try {
          const msg = JSON.parse(line) as { event?: string; socket?: string };
          if (msg.event === "listen" && msg.socket) waiting.delete(msg.socket);
        } catch {
          return; // not a control message
        }
        if (waiting.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
      if (waiting.size === 0) setImmediate(() => (clearTimeout(timer), resolve()));
    }).finally(() => rmSync(file, { force: true }));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Stops the runtime (SIGTERM, then SIGKILL after a grace period); never throws. */
  async dispose(): Promise<void> {
    this.stopping = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }
}
