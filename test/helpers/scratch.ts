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
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = run;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(run, { recursive: true, force: true });
  };
}

export default useRunScratch;
