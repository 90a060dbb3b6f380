/**
 * Sync figures on two stacks: convergence after 10,000 writes, single-write
 * propagation latency, bytes per idle round at 0 and 100,000 observations,
 * and bytes on the wire per changed row against the row's own JSON size.
 */
import { TestStack, until } from "../harness/stack";
import { report, type Figure } from "./stats";
import { median, percentile } from "../harness/measure";
import { entities, sentence } from "./workload";

const ENV = { AIOS_CLUSTER_SECRET: "bench-sync", AIOS_API_TOKEN: "bench", AIOS_LOG_LEVEL: "warn" };

interface SyncPeer {
  peer_id: string;
  rounds_ok: number;
  rows_received: number;
  bytes_sent: number;
  bytes_received: number;
}
interface SyncStateBody {
  digest: string;
  peers: SyncPeer[];
}

const state = async (s: TestStack) => (await (await s.api("/sync/state")).json()) as SyncStateBody;

async function converge(a: TestStack, b: TestStack, timeoutMs = 120_000): Promise<void> {
  await until(async () => (await state(a)).digest === (await state(b)).digest, timeoutMs, 20);
}

/** Bytes per idle round: both sides' pulls of each other, from their own counters, over `ms`. */
async function idleRoundBytes(a: TestStack, b: TestStack, ms = 5000): Promise<number> {
  const before = await Promise.all([state(a), state(b)]);
  await new Promise((r) => setTimeout(r, ms));
  const after = await Promise.all([state(a), state(b)]);
  const rounds = (i: number) => after[i]!.peers[0]!.rounds_ok - before[i]!.peers[0]!.rounds_ok;
  const bytes = (i: number) =>
    after[i]!.peers[0]!.bytes_sent +
    after[i]!.peers[0]!.bytes_received -
    before[i]!.peers[0]!.bytes_sent -
    before[i]!.peers[0]!.bytes_received;
  return (bytes(0) + bytes(1)) / (rounds(0) + rounds(1));
}

export async function benchSync(root: string): Promise<Figure[]> {
  const [a, b] = await Promise.all([
    TestStack.start({ ip: "127.0.24.1", cellId: "bench-a", env: { ...ENV, AIOS_NETWORK_PEERS: "127.0.24.2" } }),
    TestStack.start({ ip: "127.0.24.2", cellId: "bench-b", env: ENV }),
  ]);
  try {
    await until(
      async () => (await state(a)).peers.some((p) => p.rounds_ok > 2) && (await state(b)).peers.some((p) => p.rounds_ok > 2),
      30_000,
    );
    const idleEmpty = await idleRoundBytes(a, b);

    // Single-write propagation.
    const latencies: number[] = [];
    const writeMs: number[] = [];
    for (let i = 0; i < 40; i++) {
      const t = performance.now();
      await a.memory("create_entities", {
        namespace: "lat",
        entities: [{ name: `probe-${i}`, entityType: "probe", observations: [] }],
      });
      writeMs.push(performance.now() - t);
      await until(
        async () =>
          ((await (await b.api(`/memory/open_nodes?namespace=lat&name=probe-${i}`)).json()) as { entities: unknown[] }).entities
            .length === 1,
        10_000,
        2,
      );
      latencies.push(performance.now() - t);
    }

    // 10,000 writes on one side, then time to identical digests.
    const beforeBulk = (await state(b)).peers[0]!;
    await a.memory("create_entities", { namespace: "bulk", entities: entities(100, 0) });
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) {
      await a.memory("add_observations", {
        namespace: "bulk",
        observations: [
          {
            entityName: `entity-${i % 100}`,
            contents: Array.from({ length: 50 }, (_, j) => `${sentence(i * 50 + j, 8)} #${i * 50 + j}`),
          },
        ],
      });
    }
    const ingestMs = performance.now() - t0;
    const tLast = performance.now();
    await converge(a, b);
    const convergeMs = performance.now() - tLast;
    const afterBulk = (await state(b)).peers[0]!;
    const rows = afterBulk.rows_received - beforeBulk.rows_received;
    const wireBytes = afterBulk.bytes_received - beforeBulk.bytes_received + afterBulk.bytes_sent - beforeBulk.bytes_sent;
    const sample = (await (await a.api("/memory/read_graph?namespace=bulk")).json()) as {
      entities: { name: string; observations: string[] }[];
    };
    const obs = sample.entities.flatMap((e) => e.observations.map((c) => ({ e: e.name, c })));
    // The row as JSON: the same fields the replica stores for an observation.
    const rowJson = median(
      obs.slice(0, 500).map(
        (o) =>
          JSON.stringify({
            t: "o",
            g: "bench-a:12345",
            ns: "bulk",
            n: o.e,
            c: o.c,
            a: "001700000000000-000000",
            d: 0,
            h: "001700000000000-000000",
            o: "bench-a",
            s: 12345,
          }).length,
      ),
    );

    // 100,000 observations, then an idle round again.
    for (let k = 0; k < 10; k++) await a.memory("create_entities", { namespace: "big", entities: entities(1000, 10, k * 1000) });
    await converge(a, b, 300_000);
    const idleBig = await idleRoundBytes(a, b);

    const figures: Figure[] = [
      {
        figure: "convergence after 10,000 writes on one stack (last write to identical digests)",
        value: convergeMs,
        unit: "ms",
        reference: "time the writer took to accept them",
        referenceValue: ingestMs,
        ratio: convergeMs / ingestMs,
        target: "< 2000 ms",
        met: convergeMs < 2000,
      },
      {
        figure: "single-write propagation, median",
        value: median(latencies),
        unit: "ms",
        reference: "the write's own REST round trip",
        referenceValue: median(writeMs),
        ratio: median(latencies) / median(writeMs),
        target: "< 100 ms",
        met: median(latencies) < 100,
      },
      { figure: "single-write propagation, p99", value: percentile(latencies, 99), unit: "ms" },
      {
        figure: "bytes per idle round, empty state",
        value: idleEmpty,
        unit: "B",
        reference: "1 KiB",
        referenceValue: 1024,
        ratio: idleEmpty / 1024,
        target: "< 1024 B",
        met: idleEmpty < 1024,
      },
      {
        figure: "bytes per idle round, 100,000 observations",
        value: idleBig,
        unit: "B",
        reference: "same, empty state",
        referenceValue: idleEmpty,
        ratio: idleBig / idleEmpty,
        target: "< 1024 B",
        met: idleBig < 1024,
      },
      {
        figure: "wire bytes per changed row (bulk)",
        value: wireBytes / rows,
        unit: "B",
        reference: "the row's own JSON",
        referenceValue: rowJson,
        ratio: wireBytes / rows / rowJson,
        target: "< 1.5x",
        met: wireBytes / rows / rowJson < 1.5,
      },
    ];
    report("sync", figures, root);
    return figures;
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}
