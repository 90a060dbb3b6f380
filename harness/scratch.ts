/**
 * Every temporary folder of a test or benchmark run (the stacks' data folders, the launchers' and
 * Miniflare's scratch files, the run's own) goes under one folder, removed when the run ends, so
 * repeated runs do not fill the system's temporary folder. Test workers and the launchers a run
 * starts inherit TMPDIR. The default export is vitest's global setup (vitest.config.ts); the
 * benchmark runner calls it too.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export function useRunScratch(): () => void {
  const run = mkdtempSync(path.join(os.tmpdir(), "aios-run-"));
  // os.tmpdir() reads TMPDIR on Linux and macOS, TEMP and TMP on Windows.
  const names = ["TMPDIR", "TEMP", "TMP"] as const;
  const previous = names.map((name) => process.env[name]);
  for (const name of names) process.env[name] = run;
  return () => {
    names.forEach((name, i) => {
      if (previous[i] === undefined) delete process.env[name];
      else process.env[name] = previous[i];
    });
    rmSync(run, { recursive: true, force: true });
  };
}

export default useRunScratch;
