/** Measuring helpers shared by benchmarks and tests: percentiles, a process tree and its resident memory (Linux /proc). */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

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

/** Resident memory in bytes of one process (0 once it has ended). */
export function rssOf(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
  } catch {
    return 0; // the process ended while we looked
  }
}

/** Resident memory in bytes of a process and all its descendants. */
export function treeRss(pid: number): number {
  let total = 0;
  for (const p of processTree(pid).keys()) total += rssOf(p);
  return total;
}
