/**
 * A command of this project (`node bin/aios.mjs …`) run by a test or benchmark: its output kept,
 * its exit awaited, and stopping it by its PID, bounded in time.
 */
import type { ChildProcess } from "node:child_process";

export class AiosProcess {
  output = "";
  exitCode: number | null | undefined = undefined;
  protected readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.on("data", (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) =>
      child.on("exit", (code) => {
        this.exitCode = code;
        resolve(code);
      }),
    );
  }

  /** Sends a signal and waits (bounded) for the process to exit; SIGKILL to its process group after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 15_000): Promise<number | null> {
    if (this.exitCode !== undefined) return this.exitCode;
    this.child.kill(signal);
    return this.exit(timeoutMs);
  }

  /** kill -9 of the process and everything it started (spawned detached: its own process group). */
  async kill9(): Promise<void> {
    if (this.exitCode !== undefined) return;
    process.kill(-this.child.pid!, "SIGKILL");
    await this.exited;
  }

  /** Waits for the process to exit on its own (config errors), killing its group after `timeoutMs`. */
  async exit(timeoutMs = 20_000): Promise<number | null> {
    const timer = setTimeout(() => {
      if (this.exitCode === undefined) process.kill(-this.child.pid!, "SIGKILL");
    }, timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}
