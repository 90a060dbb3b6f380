/** The launcher's worker bundles (launcher/workers.ts): built once, reused while their sources are unchanged. */
import { existsSync, mkdtempSync, readFileSync, statSync, utimesSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { bundleWorkers, readWorkerSpecs } from "../../launcher/workers";
import { ROOT } from "../../harness/stack";

describe("worker bundles", () => {
  it("are reused while every input is unchanged, and rebuilt when one changes", async () => {
    const specs = readWorkerSpecs(ROOT).filter((s) => s.service === "metrics");
    const dir = mkdtempSync(path.join(os.tmpdir(), "aios-bundles-"));
    const file = (await bundleWorkers(specs, dir)).get("metrics")!;
    const built = statSync(file).mtimeMs;
    const inputs = JSON.parse(readFileSync(`${file}.inputs.json`, "utf8")) as [string, number, number][];
    expect(inputs.map(([f]) => f)).toContain(specs[0]!.entry);

    await new Promise((r) => setTimeout(r, 20));
    await bundleWorkers(specs, dir);
    expect(statSync(file).mtimeMs).toBe(built);

    // A source file touched (as an edit would): the next start builds again.
    const source = specs[0]!.entry;
    const { atime, mtime } = statSync(source);
    try {
      utimesSync(source, atime, new Date(mtime.getTime() + 1000));
      await bundleWorkers(specs, dir);
      expect(statSync(file).mtimeMs).toBeGreaterThan(built);
    } finally {
      utimesSync(source, atime, mtime);
    }
  });

  it("are built again when an input changed while the build ran", async () => {
    const specs = readWorkerSpecs(ROOT).filter((s) => s.service === "metrics");
    const dir = mkdtempSync(path.join(os.tmpdir(), "aios-bundles-"));
    const source = specs[0]!.entry;
    const { atime, mtime } = statSync(source);
    try {
      // A modification time after the build's start is what a save during the build leaves.
      utimesSync(source, atime, new Date(Date.now() + 60_000));
      const file = (await bundleWorkers(specs, dir)).get("metrics")!;
      expect(existsSync(`${file}.inputs.json`)).toBe(false);
      const built = statSync(file).mtimeMs;
      await new Promise((r) => setTimeout(r, 20));
      await bundleWorkers(specs, dir);
      expect(statSync(file).mtimeMs).toBeGreaterThan(built);
    } finally {
      utimesSync(source, atime, mtime);
    }
  });
});
