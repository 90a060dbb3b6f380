/**
 * Remembers which workerd processes this launcher runs (the stack's and the
 * built-in embedder's), so that after the launcher is killed (kill -9, a
 * crash) the next start can stop the orphaned runtimes that still hold the
 * ports and the data folder. Linux /proc only; elsewhere they die with their
 * terminal.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

interface RuntimeRecord {
  launcher: number;
  runtime: number;
  embedder?: number;
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

/** Records the stack's workerd (again after a restart, keeping the embedder's). */
export function recordRuntime(dataDir: string, runtime: number | undefined): void {
  if (runtime === undefined) return;
  const previous = read(dataDir);
  const embedder = previous?.launcher === process.pid ? previous.embedder : undefined;
  writeFileSync(file(dataDir), JSON.stringify({ launcher: process.pid, runtime, embedder } satisfies RuntimeRecord));
}

/** Adds the embedder's workerd to the record of this launcher's runtime. */
export function recordEmbedder(dataDir: string, embedder: number | undefined): void {
  const record = read(dataDir);
  if (embedder === undefined || record?.launcher !== process.pid) return;
  writeFileSync(file(dataDir), JSON.stringify({ ...record, embedder } satisfies RuntimeRecord));
}

export function forgetRuntime(dataDir: string): void {
  rmSync(file(dataDir), { force: true });
}

function read(dataDir: string): RuntimeRecord | undefined {
  try {
    return JSON.parse(readFileSync(file(dataDir), "utf8")) as RuntimeRecord;
  } catch {
    return undefined;
  }
}

/** Stops the runtimes left behind by a launcher that no longer runs; answers the stack's pid if it stopped one. */
export function stopOrphanedRuntime(dataDir: string): number | undefined {
  const record = read(dataDir);
  if (!record) return undefined;
  forgetRuntime(dataDir);
  if (alive(record.launcher)) return undefined;
  const stopped = [record.runtime, record.embedder].filter(
    (pid): pid is number => pid !== undefined && alive(pid) && isWorkerd(pid),
  );
  for (const pid of stopped) process.kill(pid, "SIGKILL");
  for (let i = 0; i < 50 && stopped.some(alive); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  return stopped.length > 0 ? stopped[0] : undefined;
}
