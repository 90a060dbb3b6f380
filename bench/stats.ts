/** The benchmarks' figures and their result files. */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface Figure {
  figure: string;
  value: number;
  unit: string;
  reference?: string;
  referenceValue?: number;
  ratio?: number;
  target?: string;
  met?: boolean;
}

export function machine(): string {
  return `${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()}`;
}

export function report(name: string, figures: Figure[], root: string): void {
  console.log(`\n${name} (${machine()}, ${new Date().toISOString()})`);
  for (const f of figures) {
    const ref = f.reference ? `  reference ${f.reference}: ${round(f.referenceValue!)} ${f.unit}, ratio ${round(f.ratio!)}` : "";
    const target = f.target ? `  target ${f.target}: ${f.met ? "met" : "NOT met"}` : "";
    console.log(`  ${f.figure}: ${round(f.value)} ${f.unit}${ref}${target}`);
  }
  const dir = path.join(root, "bench", "out");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, `${name}.json`),
    JSON.stringify({ name, machine: machine(), date: new Date().toISOString(), figures }, null, 2),
  );
}

export const round = (x: number) => (Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * 100) / 100);

/**
 * bench/RESULTS.md: every figure of the latest run of each benchmark, with its machine and date.
 * Benchmarks run here (bench/out, not committed) replace their sections; the sections of the others
 * are kept as the file had them, so a fresh checkout that runs one benchmark loses no other figures.
 */
export function writeResults(root: string): void {
  const dir = path.join(root, "bench", "out");
  const file = path.join(root, "bench", "RESULTS.md");
  const runs = readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map(
      (f) =>
        JSON.parse(readFileSync(path.join(dir, f), "utf8")) as { name: string; machine: string; date: string; figures: Figure[] },
    );
  const sections = existsSync(file) ? resultSections(readFileSync(file, "utf8")) : new Map<string, string>();
  for (const run of runs) {
    const lines = [
      `## ${run.name}`,
      "",
      `${run.machine}; ${run.date}`,
      "",
      "| figure | result | reference | ratio | target | met |",
      "| --- | --- | --- | --- | --- | --- |",
    ];
    for (const f of run.figures) {
      const ref = f.reference ? `${f.reference}: ${round(f.referenceValue!)} ${f.unit}` : "";
      lines.push(
        `| ${f.figure} | ${round(f.value)} ${f.unit} | ${ref} | ${f.ratio === undefined ? "" : round(f.ratio)} | ${f.target ?? ""} | ${f.met === undefined ? "" : f.met ? "yes" : "no"} |`,
      );
    }
    sections.set(run.name, lines.join("\n") + "\n");
  }
  const head = [
    "# Benchmark results",
    "",
    "Written by `npm run bench`; each benchmark's latest run. Ratios are against a reference measured in the same run.",
    "",
  ];
  const body = [...sections].sort(([a], [b]) => a.localeCompare(b)).map(([, text]) => text);
  writeFileSync(file, head.join("\n") + "\n" + body.join("\n"));
}

/** The `## name` sections of a RESULTS.md, each up to the next heading, by name. */
export function resultSections(text: string): Map<string, string> {
  const sections = new Map<string, string>();
  for (const part of text.split(/^(?=## )/m)) {
    const name = /^## (.+)/.exec(part)?.[1]?.trim();
    if (name) sections.set(name, part.trimEnd() + "\n");
  }
  return sections;
}
