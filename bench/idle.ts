/**
 * Idle cost of a stack with one peer: two stacks on 127.0.61.1 and 127.0.61.2
 * (one cluster, the second seeds the first), left alone once each lists the
 * other alive and their replicas are identical, and 20 s more (the sync loop
 * slows down once its rounds are quiet). Measured: the CPU each stack's
 * process tree (launcher and workerd) uses per second of idleness (/proc), and
 * the sync rounds and bytes per hour each cell's own counters show.
 */
import { QUIETEN_MS } from "./simulate";
import { report, round, type Figure } from "./stats";
import { treeCpuSeconds } from "../harness/measure";
import { sleep, TestStack, until } from "../harness/stack";

const ENV = { AIOS_CLUSTER_SECRET: "bench-idle", AIOS_API_TOKEN: "bench", AIOS_LOG_LEVEL: "warn", AIOS_MDNS: "off" };
const WINDOW_MS = Number(process.env.AIOS_BENCH_IDLE_MS ?? 60_000);
/** DESIGN.md section 2 and the relay issue: an idle stack with one peer uses at most this. */
const TARGET_MS_PER_S = 5;

async function counter(s: TestStack, name: string): Promise<number> {
  const text = await (await fetch(`http://${s.opts.ip}:9091/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n"))
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) total += Number(line.split(" ").pop());
  return total;
}

export async function benchIdle(root: string): Promise<Figure[]> {
  const stacks = await Promise.all([
    TestStack.start({ ip: "127.0.61.1", cellId: "idle-a", env: ENV }),
    TestStack.start({ ip: "127.0.61.2", cellId: "idle-b", env: { ...ENV, AIOS_NETWORK_PEERS: "127.0.61.1" } }),
  ]);
  try {
    const alive = async (s: TestStack) =>
      (await s.json<{ peers: { status: string }[] }>("discovery", "/peers")).peers.filter((p) => p.status === "alive").length;
    await until(async () => (await alive(stacks[0]!)) === 1 && (await alive(stacks[1]!)) === 1, 30_000);
    await until(async () => (await stacks[0]!.digest()) === (await stacks[1]!.digest()), 30_000);
    // Idle from here: the sync loop's first quiet rounds pass before it slows to its idle cadence.
    await sleep(QUIETEN_MS);
    const cpu0 = stacks.map((s) => treeCpuSeconds(s.child.pid!));
    const rounds0 = await Promise.all(stacks.map((s) => counter(s, "aios_sync_rounds_total")));
    const bytes0 = await Promise.all(stacks.map((s) => counter(s, "aios_sync_bytes_total")));
    const t0 = performance.now();
    await sleep(WINDOW_MS);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = stacks.map((s, i) => ((treeCpuSeconds(s.child.pid!) - cpu0[i]!) * 1000) / seconds);
    const rounds = await Promise.all(stacks.map(async (s, i) => (await counter(s, "aios_sync_rounds_total")) - rounds0[i]!));
    const bytes = await Promise.all(stacks.map(async (s, i) => (await counter(s, "aios_sync_bytes_total")) - bytes0[i]!));
    const perStack = cpu.reduce((a, b) => a + b, 0) / cpu.length;
    const hour = 3600 / seconds;
    const figures: Figure[] = [
      {
        figure: `idle CPU of a stack with one peer (launcher + workerd, mean of 2, over ${round(seconds)} s)`,
        value: round(perStack),
        unit: "ms CPU/s",
        target: `<= ${TARGET_MS_PER_S} ms CPU/s`,
        met: perStack <= TARGET_MS_PER_S,
      },
      { figure: "idle sync rounds per cell per hour", value: round(((rounds[0]! + rounds[1]!) / 2) * hour), unit: "rounds/h" },
      { figure: "idle sync bytes per cell per hour", value: round(((bytes[0]! + bytes[1]!) / 2) * hour), unit: "B/h" },
    ];
    report("idle", figures, root);
    return figures;
  } finally {
    await Promise.all(stacks.map((s) => s.stop()));
  }
}
