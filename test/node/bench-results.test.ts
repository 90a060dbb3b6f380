/** bench/RESULTS.md (bench/stats.ts writeResults): a run replaces its own section and keeps the others. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resultSections, writeResults } from "../../bench/stats";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function root(results?: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "aios-results-"));
  dirs.push(dir);
  mkdirSync(path.join(dir, "bench", "out"), { recursive: true });
  if (results !== undefined) writeFileSync(path.join(dir, "bench", "RESULTS.md"), results);
  return dir;
}

const OLD = `# Benchmark results

Written by \`npm run bench\`; each benchmark's latest run.

## alpha

old machine; 2026-01-01

| figure | result | reference | ratio | target | met |
| --- | --- | --- | --- | --- | --- |
| alpha figure | 1 ms |  |  |  |  |

## http

old machine; 2026-01-01

| figure | result | reference | ratio | target | met |
| --- | --- | --- | --- | --- | --- |
| old http figure | 9 req/s |  |  |  |  |
`;

describe("bench/RESULTS.md", () => {
  it("replaces the sections of the benchmarks just run and keeps the others as they were", () => {
    const dir = root(OLD);
    const run = {
      name: "http",
      machine: "new machine",
      date: "2026-12-06T00:00:00.000Z",
      figures: [
        {
          figure: "new http figure",
          value: 2000,
          unit: "req/s",
          reference: "noop",
          referenceValue: 2500,
          ratio: 0.8,
          target: ">= 0.8x",
          met: true,
        },
      ],
    };
    writeFileSync(path.join(dir, "bench", "out", "http.json"), JSON.stringify(run));
    writeFileSync(path.join(dir, "bench", "out", "beta.json"), JSON.stringify({ ...run, name: "beta", figures: [] }));
    writeResults(dir);
    const text = readFileSync(path.join(dir, "bench", "RESULTS.md"), "utf8");
    const sections = resultSections(text);
    expect([...sections.keys()]).toEqual(["alpha", "beta", "http"]);
    expect(sections.get("alpha")).toBe(resultSections(OLD).get("alpha"));
    expect(sections.get("http")).toContain("| new http figure | 2000 req/s | noop: 2500 req/s | 0.8 | >= 0.8x | yes |");
    expect(text).not.toContain("old http figure");
    // Written again with nothing new, the file stays the same.
    rmSync(path.join(dir, "bench", "out"), { recursive: true });
    mkdirSync(path.join(dir, "bench", "out"));
    writeResults(dir);
    expect(readFileSync(path.join(dir, "bench", "RESULTS.md"), "utf8")).toBe(text);
  });

  it("is written from the runs alone when there is no file yet", () => {
    const dir = root();
    writeFileSync(
      path.join(dir, "bench", "out", "store.json"),
      JSON.stringify({ name: "store", machine: "m", date: "d", figures: [] }),
    );
    writeResults(dir);
    expect([...resultSections(readFileSync(path.join(dir, "bench", "RESULTS.md"), "utf8")).keys()]).toEqual(["store"]);
  });
});
