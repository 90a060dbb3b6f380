/**
 * Remembers which workerd this launcher runs, so that after the launcher is
 * killed (kill -9, a crash) the next start can stop the orphaned runtime that
 * still holds the ports and the data folder. Linux /proc only; elsewhere the
 * runtime dies with its terminal.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

interface RuntimeRecord {
  launcher: number;
  runtime: number;
}

const file = (dataDir: string) => path.join(dataDir, "runtime.json");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function isWorkerd(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("workerd");
  } catch {
    return false;
  }
}

export function recordRuntime(dataDir: string, runtime: number | undefined): void {
  if (runtime !== undefined)
    writeFileSync(file(dataDir), JSON.stringify({ launcher: process.pid, runtime } satisfies RuntimeRecord));
}

export function forgetRuntime(dataDir: string): void {
  rmSync(file(dataDir), { force: true });
}

/** Stops a runtime left behind by a launcher that no longer runs; answers its pid if it did. */
export function stopOrphanedRuntime(dataDir: string): number | undefined {
  let record: RuntimeRecord;
  try {
    record = JSON.parse(readFileSync(file(dataDir), "utf8")) as RuntimeRecord;
  } catch {
    return undefined;
  }
  forgetRuntime(dataDir);
  if (alive(record.launcher) || !alive(record.runtime) || !isWorkerd(record.runtime)) return undefined;
  process.kill(record.runtime, "SIGKILL");
  for (let i = 0; i < 50 && alive(record.runtime); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  return record.runtime;
}
