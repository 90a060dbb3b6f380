/**
 * Sync through a relay (docs/relay.md), on real processes: the relay under
 * `npm run relay` on 127.0.71.1 and two stacks on .2 and .3 that cannot see
 * each other (mDNS off, no seeds). Measured:
 *  - write-to-peer latency through the relay (a write on one stack until the
 *    other shows it; the other polled every 5 ms), alternating sides;
 *  - over an idle window: requests the relay served and the bytes of the
 *    cells' relay syncs (their own counters), per cell per hour; the relay
 *    process's CPU per hour;
 *  - what two idle cells cost on Cloudflare's free plan, in requests per day:
 *    each HTTP request is one Worker request and one Durable Object request;
 *    WebSocket messages to a Durable Object count 20 to one (keep-alive pings
 *    answered by the auto-response included, to be safe).
 */
import { TestRelay } from "../harness/relay";
import { sleep, TestStack, until } from "../harness/stack";
import { report, round, type Figure } from "./stats";
import { median, percentile, treeCpuSeconds } from "../harness/measure";

const SECRET = "bench-relay";
const RELAY_IP = "127.0.71.1";
const ENV = {
  AIOS_CLUSTER_SECRET: SECRET,
  AIOS_API_TOKEN: "bench",
  AIOS_LOG_LEVEL: "warn",
  AIOS_MDNS: "off",
  AIOS_RELAY: `http://${RELAY_IP}:8787`,
};
const WRITES = 20;
const IDLE_MS = Number(process.env.AIOS_BENCH_RELAY_IDLE_MS ?? 180_000);
/** From durable-objects/consciousness/relay-link.ts (RELAY_PING_MS): pings per cell per hour on the news socket. */
const PINGS_PER_HOUR = 3600 / 30;
/** Cloudflare's free plan: Worker requests per day (Durable Object requests have the same daily allowance). */
const FREE_REQUESTS_PER_DAY = 100_000;

async function counter(s: TestStack, name: string): Promise<number> {
  const text = await (await fetch(`http://${s.opts.ip}:9091/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n")) if (line.startsWith(`${name}{`)) total += Number(line.split(" ").pop());
  return total;
}

const has = async (s: TestStack, name: string) =>
  ((await (await s.api(`/memory/read_graph?namespace=bench`)).json()) as { entities: { name: string }[] }).entities.some(
    (e) => e.name === name,
  );

export async function benchRelay(root: string): Promise<Figure[]> {
  const relay = await TestRelay.start(RELAY_IP, { AIOS_CLUSTER_SECRET: SECRET });
  const stacks: TestStack[] = [];
  try {
    stacks.push(
      ...(await Promise.all([
        TestStack.start({ ip: "127.0.71.2", cellId: "bench-ra", env: ENV }),
        TestStack.start({ ip: "127.0.71.3", cellId: "bench-rb", env: ENV }),
      ])),
    );
    await until(async () => (await relay.health()).connected === 2, 30_000);
    const latencies: number[] = [];
    for (let i = 0; i < WRITES; i++) {
      const [from, to] = i % 2 ? [stacks[1]!, stacks[0]!] : [stacks[0]!, stacks[1]!];
      const name = `w${i}`;
      const t0 = performance.now();
      await from.memory("create_entities", { namespace: "bench", entities: [{ name, entityType: "t", observations: [] }] });
      await until(() => has(to, name), 10_000, 5);
      latencies.push(performance.now() - t0);
      await sleep(200);
    }
    await until(async () => (await stacks[0]!.digest()) === (await stacks[1]!.digest()), 30_000);
    await sleep(3000);

    const h0 = await relay.health();
    const bytes0 = await Promise.all(stacks.map((s) => counter(s, "aios_sync_bytes_total")));
    const cpu0 = treeCpuSeconds(relay.child.pid!);
    const t0 = performance.now();
    await sleep(IDLE_MS);
    const hours = (performance.now() - t0) / 3_600_000;
    const h1 = await relay.health();
    const bytes1 = await Promise.all(stacks.map((s) => counter(s, "aios_sync_bytes_total")));
    const relayCpu = treeCpuSeconds(relay.child.pid!) - cpu0;
    const requests = (Number(h1.pulls) - Number(h0.pulls) + Number(h1.pushes) - Number(h0.pushes)) / hours;
    const perCellRequests = requests / 2;
    const perCellBytes = (bytes1[0]! - bytes0[0]! + bytes1[1]! - bytes0[1]!) / 2 / hours;
    const perDayTwo = (requests * 2 + (2 * PINGS_PER_HOUR) / 20) * 24;
    const figures: Figure[] = [
      {
        figure: "write on one cell -> visible on the other, through the relay (median)",
        value: round(median(latencies)),
        unit: "ms",
      },
      { figure: "write -> visible on the other, through the relay (p95)", value: round(percentile(latencies, 95)), unit: "ms" },
      {
        figure: `idle: relay requests per cell per hour (over ${round(hours * 60)} min)`,
        value: round(perCellRequests),
        unit: "req/h",
      },
      {
        figure: "idle: keep-alive pings per cell per hour (answered without waking the relay)",
        value: PINGS_PER_HOUR,
        unit: "msg/h",
      },
      { figure: "idle: relay sync bytes per cell per hour (both ways)", value: round(perCellBytes), unit: "B/h" },
      { figure: "idle: relay requests per hour (two cells)", value: round(requests), unit: "req/h" },
      {
        figure: "idle: relay process CPU per hour (two cells; workerd + launcher, local)",
        value: round((relayCpu / hours) * 1000),
        unit: "ms/h",
      },
      {
        figure: "free plan: two idle cells, requests per day (Worker + DO each; pings at 20:1)",
        value: round(perDayTwo),
        unit: "req/day",
        target: `< ${FREE_REQUESTS_PER_DAY} (free plan, per day)`,
        met: perDayTwo < FREE_REQUESTS_PER_DAY,
      },
    ];
    report("relay", figures, root);
    return figures;
  } finally {
    await Promise.all(stacks.map((s) => s.stop()));
    await relay.stop();
  }
}
