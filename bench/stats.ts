/** Small helpers shared by the benchmarks: percentiles, process memory, result files. */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export const median = (values: number[]) => percentile(values, 50);

/** A process and all its descendants (Linux /proc), with each one's stat fields after the command. */
export function processTree(pid: number): Map<number, string[]> {
  const children = new Map<number, number[]>();
  const stats = new Map<number, string[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // After the command: state(0) ppid(1) … utime(11) stime(12).
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      stats.set(Number(entry), fields);
      const list = children.get(Number(fields[1])) ?? [];
      list.push(Number(entry));
      children.set(Number(fields[1]), list);
    } catch {
      // the process ended while we looked
    }
  }
  const tree = new Map<number, string[]>();
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    const fields = stats.get(p);
    if (!fields || tree.has(p)) continue;
    tree.set(p, fields);
    stack.push(...(children.get(p) ?? []));
  }
  return tree;
}

let clockTicks: number | undefined;
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** CPU seconds (user + system) used so far by a process and all its descendants. */
export function treeCpuSeconds(pid: number): number {
  let ticks = 0;
  for (const fields of processTree(pid).values()) ticks += Number(fields[11]) + Number(fields[12]);
  return ticks / ticksPerSecond();
}

/** Resident memory in bytes of a process and all its descendants. */
export function treeRss(pid: number): number {
  let total = 0;
  for (const p of processTree(pid).keys()) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, "utf8"));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // the process ended while we looked
    }
  }
  return total;
}

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
