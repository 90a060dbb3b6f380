/**
 * `npm run soak`: the fault and load end-to-end tests in their long form. It runs vitest on them with
 * AIOS_SOAK=1, which those tests read: the load test writes for 60 s instead of 10 s, the runtime is
 * killed under load three times in a row instead of once, the kill -9 of a stack comes after 20 s of
 * writes instead of 1.5 s, and the slow peer stays slow for 60 s instead of 5 s. Arguments after the
 * command go to vitest, e.g. `npm run soak -- -t load`.
 */
import { spawn } from "node:child_process";
import path from "node:path";

export const SOAK_FILES = ["test/e2e/faults.test.ts", "test/e2e/slow-peer.test.ts", "test/e2e/load.test.ts"];

export function soak(root: string, args: string[]): Promise<number> {
  const vitest = path.join(root, "node_modules", "vitest", "vitest.mjs");
  const child = spawn(process.execPath, [vitest, "run", "--project", "e2e", ...SOAK_FILES, ...args], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, AIOS_SOAK: "1" },
  });
  // Ctrl-C reaches vitest too (same terminal); wait for it to clean up its stacks and report.
  const ignore = () => undefined;
  process.on("SIGINT", ignore);
  return new Promise((resolve) => {
    child.on("error", (e) => {
      console.error(`aios: could not run vitest: ${e.message}`);
      resolve(1);
    });
    child.on("exit", (code, signal) => {
      process.off("SIGINT", ignore);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}
