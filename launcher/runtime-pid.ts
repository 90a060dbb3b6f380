/**
 * Remembers which workerd this launcher runs, so that after the launcher is
 * killed (kill -9, a crash) the next start can stop the orphaned runtime that
 * still holds the ports and the data folder. Linux /proc only; elsewhere the
 * runtime dies with its terminal.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

/** The workerd child of this process, if any (but `except`: the embedder's). */
export function findRuntime(parent = process.pid, except?: number): number | undefined {
  if (!existsSync("/proc")) return undefined;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === parent && Number(entry) !== except && isWorkerd(Number(entry))) return Number(entry);
    } catch {
      // gone while we looked
    }
  }
  return undefined;
}

export function recordRuntime(dataDir: string, except?: number): void {
  const runtime = findRuntime(process.pid, except);
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
