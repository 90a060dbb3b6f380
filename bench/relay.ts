/**
 * Sync through a relay (docs/relay.md), on real processes: the relay under
 * `npm run relay` on 127.0.71.1 and two stacks on .2 and .3 that cannot see
 * each other (mDNS off, no seeds). Measured:
 *  - write-to-peer latency through the relay (a write on one stack until the
 *    other shows it; the other polled every 5 ms), alternating sides;
 *  - over an idle window: requests the relay served and the bytes of the
 *    cells' relay syncs (their own counters), per cell per hour; the relay
 *    process's CPU per hour;
 *  - what two idle cells cost on Cloudflare's free plan, per day, each against its own allowance:
 *    Worker requests (one per HTTP request), Durable Object requests (one call to the object per
 *    HTTP request, plus WebSocket messages at 20 to one: keep-alive pings answered by the
 *    auto-response included, to be safe) and the SQLite rows the object wrote and read (its own
 *    count, `sql_rows_*` in /health, as Cloudflare bills them).
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
/** Cloudflare's free plan, per day: Worker requests, and Durable Object requests (a separate allowance of the same size). */
const FREE_REQUESTS_PER_DAY = 100_000;
/** Cloudflare's free plan, per day: SQLite rows written and rows read by Durable Objects. */
const FREE_ROWS_WRITTEN_PER_DAY = 100_000;
const FREE_ROWS_READ_PER_DAY = 5_000_000;

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

/** A figure of two idle cells per day against one of the free plan's daily allowances. */
function freePlan(what: string, perDay: number, unit: string, allowance: number): Figure {
  return {
    figure: `free plan: two idle cells, ${what}`,
    value: round(perDay),
    unit,
    target: `< ${allowance} (free plan, per day)`,
    met: perDay < allowance,
  };
}

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
    if (h1.counting_since !== h0.counting_since)
      throw new Error("the relay's tally started again during the idle window (its storage was reset)");
    const delta = (name: string) => Number(h1[name]) - Number(h0[name]);
    const requests = (delta("pulls") + delta("pushes")) / hours;
    const perCellRequests = requests / 2;
    const perCellBytes = (bytes1[0]! - bytes0[0]! + bytes1[1]! - bytes0[1]!) / 2 / hours;
    const workerPerDay = requests * 24;
    const objectPerDay = (requests + (2 * PINGS_PER_HOUR) / 20) * 24;
    // The two /health reads that bracket the window are counted too (a few rows each): a bound from above.
    const writtenPerDay = (delta("sql_rows_written") / hours) * 24;
    // Each request's nonce is deleted ten minutes later, mostly after a short window: in a steady state
    // every request also deletes one row.
    const steadyWrittenPerDay = writtenPerDay + workerPerDay;
    const readPerDay = (delta("sql_rows_read") / hours) * 24;
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
      freePlan("Worker requests per day", workerPerDay, "req/day", FREE_REQUESTS_PER_DAY),
      freePlan(
        "Durable Object requests per day (one per HTTP request; pings at 20:1)",
        objectPerDay,
        "req/day",
        FREE_REQUESTS_PER_DAY,
      ),
      {
        figure: "idle: relay SQLite rows written per cell per day (in the window)",
        value: round(writtenPerDay / 2),
        unit: "rows/day",
      },
      freePlan(
        "SQLite rows written per day (steady: + each nonce's delete)",
        steadyWrittenPerDay,
        "rows/day",
        FREE_ROWS_WRITTEN_PER_DAY,
      ),
      freePlan("SQLite rows read per day", readPerDay, "rows/day", FREE_ROWS_READ_PER_DAY),
    ];
    report("relay", figures, root);
    return figures;
  } finally {
    await Promise.all(stacks.map((s) => s.stop()));
    await relay.stop();
  }
}
