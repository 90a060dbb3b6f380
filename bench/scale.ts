/**
 * Scale on real stacks: 2, then 5, then 10 stacks on 127.0.60.1 … 127.0.60.10
 * (same ports on each address), one cluster (a shared secret; every stack
 * seeds the first, gossip does the rest). The cluster grows in place: the
 * stacks of the smaller size stay and new ones join, as a developer adding
 * machines would see it.
 *
 * At each size, once every stack lists the others alive, its sync loop runs
 * and all replicas are identical (and after one write on every stack, so
 * version vectors have an entry per cell, and 20 s for the loop to slow to its
 * idle cadence), it measures:
 *  - idle sync traffic per cell (bytes per second, from the cells' own
 *    `aios_sync_bytes_total` counters) and idle CPU per stack (/proc);
 *  - the time for one write to be visible on every other stack (writes on
 *    rotating stacks; the other stacks polled round-robin, one request in
 *    flight, 5 ms between requests);
 *  - sync bytes on the wire per write: the pulls the write caused (pulls from
 *    the writer beyond the idle rate that the pulls between the other cells
 *    show in the same interval) at the idle-round size, plus the rows' bytes
 *    (counted bytes beyond idle-round size), plus N-1 pokes (the cells do not
 *    count them; estimated from the measured size of an idle pull);
 *  - the CPU that other processes on the machine used meanwhile, since all N
 *    stacks share this machine's cores, unlike N machines on a LAN.
 *
 * The reference column is the model of bench/simulate.ts for the same number
 * of cells.
 */
import { readFileSync, rmSync } from "node:fs";
import { sleep, TestStack } from "../harness/stack";
import { QUIETEN_MS, simulate, SYNC_FANOUT } from "./simulate";
import { report, round, type Figure } from "./stats";
import { median, percentile, ticksPerSecond, treeCpuSeconds } from "../harness/measure";

const SIZES = [2, 5, 10] as const;
const ENV = { AIOS_CLUSTER_SECRET: "bench-scale", AIOS_API_TOKEN: "bench", AIOS_LOG_LEVEL: "warn" };
const ipOf = (i: number) => `127.0.60.${i + 1}`;
const NAMESPACE = "scale";
const WRITES = 20;
const POLL_MS = 5;
const VISIBLE_TIMEOUT_MS = 10_000;
/** Several idle rounds (one every SYNC_IDLE_INTERVAL_S), so the idle figures are not one round's luck. */
const IDLE_WINDOW_MS = 60_000;
/** After a write is everywhere: time for the pulls it caused to finish and be counted. */
const SETTLE_MS = 300;

interface SyncStateBody {
  digest: string;
  vv: Record<string, number>;
  peers: { peer_id: string; lag_seconds: number | null }[];
}
const syncState = async (s: TestStack) => (await (await s.api("/sync/state")).json()) as SyncStateBody;

// ---- counters ------------------------------------------------------------------

interface Counters {
  /** Bytes of the pulls the cells ran, both ways (the puller counts each pull once). */
  bytes: number;
  /** Successful pulls, in all and by the cell pulled from. */
  ok: number;
  okFrom: Map<string, number>;
  failed: number;
  /** Pokes the cells answered (any status); they are not sync rounds, so not in the bytes. */
  pokes: number;
}

async function counters(s: TestStack): Promise<Counters> {
  const text = await (await fetch(s.url("metrics", "/metrics"))).text();
  const c: Counters = { bytes: 0, ok: 0, okFrom: new Map(), failed: 0, pokes: 0 };
  for (const line of text.split("\n")) {
    if (line.startsWith("aios_http_requests_total{") && line.includes('route="/sync/poke"')) {
      c.pokes += Number(line.slice(line.lastIndexOf(" ") + 1));
      continue;
    }
    const m = /^(aios_sync_bytes_total|aios_sync_rounds_total)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (m[1] === "aios_sync_bytes_total") {
      c.bytes += value;
    } else if (m[2]!.includes('result="ok"')) {
      const peer = /peer_id="([^"]*)"/.exec(m[2]!)?.[1] ?? "";
      c.ok += value;
      c.okFrom.set(peer, (c.okFrom.get(peer) ?? 0) + value);
    } else {
      c.failed += value;
    }
  }
  return c;
}

async function totals(stacks: TestStack[]): Promise<Counters> {
  const sum: Counters = { bytes: 0, ok: 0, okFrom: new Map(), failed: 0, pokes: 0 };
  for (const c of await Promise.all(stacks.map(counters))) {
    sum.bytes += c.bytes;
    sum.ok += c.ok;
    sum.failed += c.failed;
    sum.pokes += c.pokes;
    for (const [peer, n] of c.okFrom) sum.okFrom.set(peer, (sum.okFrom.get(peer) ?? 0) + n);
  }
  return sum;
}

// ---- the cluster -------------------------------------------------------------------

/** Starts stacks until there are `to`, in parallel; each is added to `stacks` as soon as it is spawned. */
async function grow(stacks: TestStack[], to: number): Promise<number> {
  const t0 = performance.now();
  const fresh: TestStack[] = [];
  for (let i = stacks.length; i < to; i++) {
    const env = i === 0 ? ENV : { ...ENV, AIOS_NETWORK_PEERS: ipOf(0) };
    const s = await TestStack.start({ ip: ipOf(i), cellId: `scale-${i + 1}`, env, waitReady: false });
    stacks.push(s);
    fresh.push(s);
  }
  await Promise.all(fresh.map((s) => s.ready(120_000)));
  return performance.now() - t0;
}

interface View {
  ip: string;
  alive: number;
  syncing: number;
  digest: string;
}

async function viewOf(s: TestStack, ids: Set<string>): Promise<View> {
  const [peers, st] = await Promise.all([
    s.json<{ peers: { cell_id: string; status: string }[] }>("discovery", "/peers"),
    syncState(s),
  ]);
  return {
    ip: s.opts.ip,
    alive: peers.peers.filter((p) => p.status === "alive" && ids.has(p.cell_id)).length,
    // Peers its sync loop has pulled from successfully (a round pulls from SYNC_FANOUT random peers,
    // every 15 s once quiet, so a given peer's turn can take a minute or more to come at N = 10).
    syncing: st.peers.filter((p) => ids.has(p.peer_id) && p.lag_seconds !== null).length,
    digest: st.digest,
  };
}

/**
 * Waits (bounded) until every stack lists the other N-1 alive, has pulled from as many peers as one
 * round pulls from (its loop runs), and all digests are equal.
 */
async function formed(stacks: TestStack[], timeoutMs: number): Promise<void> {
  const ids = new Set(stacks.map((s) => s.opts.cellId!));
  const n = stacks.length;
  const deadline = Date.now() + timeoutMs;
  let views: View[] = [];
  let problem = "";
  while (Date.now() < deadline) {
    try {
      views = await Promise.all(stacks.map((s) => viewOf(s, ids)));
      const fanout = Math.min(SYNC_FANOUT, n - 1);
      if (views.every((v) => v.alive === n - 1 && v.syncing >= fanout) && new Set(views.map((v) => v.digest)).size === 1) return;
    } catch (e) {
      problem = String(e);
    }
    await sleep(200);
  }
  const lines = views.map((v) => `${v.ip}: ${v.alive} alive, ${v.syncing} syncing, digest ${v.digest.slice(0, 12)}`);
  throw new Error(`${n} stacks did not form one cluster within ${timeoutMs} ms ${problem}\n${lines.join("\n")}`);
}

/**
 * Polls the stacks other than the writer until each holds `name`: one request in flight at a time, round-robin
 * over the stacks that do not have it yet, POLL_MS between requests, so the polling costs the stacks little
 * whatever N is. Returns, per stack, the time since t0 it was first seen there. Resolution: one pass over the
 * stacks still waiting, which is short at the end, where "visible everywhere" is decided.
 */
async function visibleEverywhere(others: TestStack[], name: string, t0: number): Promise<number[]> {
  const deadline = t0 + VISIBLE_TIMEOUT_MS;
  const url = `/memory/open_nodes?namespace=${NAMESPACE}&name=${encodeURIComponent(name)}`;
  const seen = new Map<TestStack, number>();
  let waiting = [...others];
  for (let k = 0; waiting.length > 0 && performance.now() < deadline; k++) {
    const s = waiting[k % waiting.length]!;
    const r = await s.api(url);
    if (r.ok && ((await r.json()) as { entities: unknown[] }).entities.length === 1) {
      seen.set(s, performance.now() - t0);
      waiting = waiting.filter((x) => x !== s);
      k--;
    } else if (!r.ok) {
      await r.body?.cancel();
    }
    if (waiting.length > 0) await sleep(POLL_MS);
  }
  if (waiting.length > 0) {
    throw new Error(`${name} not visible on ${waiting.map((s) => s.opts.ip).join(", ")} within ${VISIBLE_TIMEOUT_MS} ms`);
  }
  return others.map((s) => seen.get(s)!);
}

/** Busy CPU seconds of the whole machine so far (all cores), from /proc/stat. */
function machineBusySeconds(): number {
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal …: everything but idle and iowait is busy.
  const busy = cpu.reduce((a, b) => a + b, 0) - (cpu[3] ?? 0) - (cpu[4] ?? 0);
  return busy / ticksPerSecond();
}

/** CPU used over an interval: by the stacks, by this benchmark's own process, and by everything else on the machine. */
function cpuMeter(stacks: TestStack[]): () => { stacks: number; others: number; perStack: number; each: number[] } {
  const seconds = () => {
    const self = process.cpuUsage();
    return {
      at: performance.now(),
      stacks: stacks.map((s) => treeCpuSeconds(s.child.pid!)),
      self: (self.user + self.system) / 1e6,
      machine: machineBusySeconds(),
    };
  };
  const a = seconds();
  return () => {
    const b = seconds();
    const wall = (b.at - a.at) / 1000;
    const perStack = b.stacks.map((x, i) => x - a.stacks[i]!);
    const ours = perStack.reduce((x, y) => x + y, 0);
    return {
      stacks: ours / wall,
      others: Math.max(0, b.machine - a.machine - ours - (b.self - a.self)) / wall,
      perStack: median(perStack) / wall,
      each: perStack.map((x) => x / wall),
    };
  };
}

interface Phase {
  n: number;
  startMs: number;
  formMs: number;
  idleBytesPerSecondPerCell: number;
  idleRoundBytes: number;
  /** Pulls per second per ordered pair of cells while idle (1 if every round took no time). */
  idleRoundsPerPair: number;
  idleCpuPerStack: number;
  idleCpuOthers: number;
  everywhere: number[];
  perPeer: number[];
  /** Per stack (in start order): the median time a write of another stack took to be visible there. */
  byStack: number[];
  idleCpuEach: number[];
  ackMs: number[];
  pullBytesPerWrite: number;
  causedPullsPerWrite: number;
  /** Pokes answered per write, counted by the cells' request metrics (the last write's may still be in a buffer). */
  pokesPerWrite: number;
  pokeBytes: number;
  writeCpuStacks: number;
  writeCpuOthers: number;
  failedRounds: number;
}

async function measure(stacks: TestStack[], startMs: number): Promise<Phase> {
  const n = stacks.length;
  const t0 = performance.now();
  await formed(stacks, 90_000);
  // One write on every stack, so every version vector has an entry per cell (the model's assumption).
  for (const [i, s] of stacks.entries()) {
    await s.memory("create_entities", {
      namespace: NAMESPACE,
      entities: [{ name: `warm-${n}-${i}`, entityType: "warm", observations: [] }],
    });
  }
  await formed(stacks, 30_000);
  const formMs = performance.now() - t0;
  await sleep(QUIETEN_MS);

  // Idle: nothing written, only the anti-entropy rounds (and discovery's heartbeats, in the CPU).
  const c0 = await totals(stacks);
  const idleCpu = cpuMeter(stacks);
  const i0 = performance.now();
  await sleep(IDLE_WINDOW_MS);
  const c1 = await totals(stacks);
  const idleSeconds = (performance.now() - i0) / 1000;
  const cpuIdle = idleCpu();
  const idleBytes = c1.bytes - c0.bytes;
  const idleRoundBytes = idleBytes / (c1.ok - c0.ok);
  // A cell sends and receives its own pulls and the pulls it serves: twice the network total over N.
  const idleBytesPerSecondPerCell = (2 * idleBytes) / n / idleSeconds;

  // A poke is a signed POST like an idle pull, with {vv} instead of {vv, limit} and {"status":"pulling"} as the answer.
  const vv = JSON.stringify((await syncState(stacks[0]!)).vv);
  const pokeBytes =
    idleRoundBytes - ',"limit":500'.length - `{"rows":[],"vv":${vv},"more":false}`.length + '{"status":"pulling"}'.length;

  // Writes on rotating stacks; each must be visible on every other one. Around each write, the counters tell
  // the pulls from the writer (idle rounds plus those its pokes caused) from the pulls between the other cells
  // (idle rounds only), which gives the pulls the write caused; every pull costs an idle round's bytes plus
  // the rows it carries.
  const everywhere: number[] = [];
  const perPeer: number[] = [];
  const seenOn = new Map<TestStack, number[]>(stacks.map((s) => [s, []]));
  const ackMs: number[] = [];
  let causedPulls = 0;
  let rowBytes = 0;
  let failed = 0;
  const writeCpu = cpuMeter(stacks);
  const pokesBefore = (await totals(stacks)).pokes;
  let pokesAfter = pokesBefore;
  for (let i = 0; i < WRITES; i++) {
    const writer = stacks[i % n]!;
    const name = `w-${n}-${i}`;
    const before = await totals(stacks);
    await sleep(100);
    const t = performance.now();
    await writer.memory("create_entities", {
      namespace: NAMESPACE,
      entities: [{ name, entityType: "probe", observations: [] }],
    });
    ackMs.push(performance.now() - t);
    const seen = await visibleEverywhere(
      stacks.filter((s) => s !== writer),
      name,
      t,
    );
    perPeer.push(...seen);
    stacks.filter((s) => s !== writer).forEach((s, j) => seenOn.get(s)!.push(seen[j]!));
    everywhere.push(Math.max(...seen));
    await sleep(SETTLE_MS);
    const after = await totals(stacks);
    const id = writer.opts.cellId!;
    const fromWriter = (after.okFrom.get(id) ?? 0) - (before.okFrom.get(id) ?? 0);
    const betweenOthers = after.ok - before.ok - fromWriter;
    // (n-1)^2 ordered pairs of cells pull from a non-writer, n-1 from the writer.
    causedPulls += fromWriter - betweenOthers / (n - 1);
    rowBytes += after.bytes - before.bytes - (after.ok - before.ok) * idleRoundBytes;
    failed += after.failed - before.failed;
    pokesAfter = after.pokes;
  }
  const cpuWrites = writeCpu();
  const pullBytesPerWrite = (causedPulls * idleRoundBytes + rowBytes) / WRITES;

  return {
    n,
    startMs,
    formMs,
    idleBytesPerSecondPerCell,
    idleRoundBytes,
    idleRoundsPerPair: (c1.ok - c0.ok) / idleSeconds / (n * (n - 1)),
    idleCpuPerStack: cpuIdle.perStack,
    idleCpuOthers: cpuIdle.others,
    everywhere,
    perPeer,
    byStack: stacks.map((s) => median(seenOn.get(s)!)),
    idleCpuEach: cpuIdle.each,
    ackMs,
    pullBytesPerWrite,
    causedPullsPerWrite: causedPulls / WRITES,
    pokesPerWrite: (pokesAfter - pokesBefore) / WRITES,
    pokeBytes,
    writeCpuStacks: cpuWrites.stacks,
    writeCpuOthers: cpuWrites.others,
    failedRounds: c1.failed - c0.failed + failed,
  };
}

function figuresOf(p: Phase): Figure[] {
  const model = simulate(p.n);
  const label = `measured ${p.n} stacks`;
  const ref = `model, ${p.n} cells`;
  const med = median(p.everywhere);
  const p99 = percentile(p.everywhere, 99);
  const perWrite = p.pullBytesPerWrite + (p.n - 1) * p.pokeBytes;
  // Without data, each write would cost N-1 pokes and N-1 pulls of an idle round's size; the rest is the row.
  const naive = 2 * (p.n - 1) * p.idleRoundBytes;
  return [
    {
      figure: `${label}: write visible everywhere (median)`,
      value: med,
      unit: "ms",
      reference: ref,
      referenceValue: model.convergenceMs,
      ratio: med / model.convergenceMs,
    },
    {
      figure: `${label}: write visible everywhere (p99)`,
      value: p99,
      unit: "ms",
      reference: ref,
      referenceValue: model.convergenceMs,
      ratio: p99 / model.convergenceMs,
    },
    {
      figure: `${label}: sync bytes on the wire per write (pulls counted, N-1 pokes estimated)`,
      value: perWrite,
      unit: "B",
      reference: "N-1 pokes + N-1 pulls at the idle-round size, same run",
      referenceValue: naive,
      ratio: perWrite / naive,
    },
    {
      figure: `${label}: idle sync traffic per cell`,
      value: p.idleBytesPerSecondPerCell,
      unit: "B/s",
      reference: ref,
      referenceValue: model.perCellIdleBytesPerSecond,
      ratio: p.idleBytesPerSecondPerCell / model.perCellIdleBytesPerSecond,
    },
    {
      figure: `${label}: idle CPU per stack (sync, discovery, everything)`,
      value: p.idleCpuPerStack * 1000,
      unit: "ms CPU/s",
      reference: `${ref}, answering idle pulls only`,
      referenceValue: model.idleServeLoad * 1000,
      ratio: p.idleCpuPerStack / model.idleServeLoad,
    },
    {
      figure: `${label}: CPU used by other processes on the machine during the writes`,
      value: p.writeCpuOthers,
      unit: "cores",
      reference: `the ${p.n} stacks themselves, same interval`,
      referenceValue: p.writeCpuStacks,
      ratio: p.writeCpuOthers / p.writeCpuStacks,
    },
  ];
}

export async function benchScale(root: string): Promise<Figure[]> {
  const stacks: TestStack[] = [];
  const phases: Phase[] = [];
  try {
    for (const n of SIZES) {
      const startMs = await grow(stacks, n);
      const p = await measure(stacks, startMs);
      phases.push(p);
      console.log(
        `scale ${n}: started in ${round(p.startMs)} ms, formed (all alive, pulling, same digest) in ${round(p.formMs)} ms\n` +
          `  write visible everywhere: median ${round(median(p.everywhere))} ms, p99 ${round(percentile(p.everywhere, 99))} ms; ` +
          `on one peer: median ${round(median(p.perPeer))} ms, p99 ${round(percentile(p.perPeer, 99))} ms; ` +
          `write acknowledged: median ${round(median(p.ackMs))} ms\n` +
          `  idle: round ${round(p.idleRoundBytes)} B, ${p.idleRoundsPerPair.toFixed(2)} pulls/s per pair of cells, ` +
          `${p.idleCpuPerStack.toFixed(3)} cores per stack, other processes ${p.idleCpuOthers.toFixed(2)} cores\n` +
          `  per write: ${p.pokesPerWrite.toFixed(1)} pokes answered, ${p.causedPullsPerWrite.toFixed(1)} pulls caused, ` +
          `${round(p.pullBytesPerWrite)} B, ` +
          `+ ${p.n - 1} pokes of ≈ ${round(p.pokeBytes)} B; ` +
          `CPU during the writes: stacks ${p.writeCpuStacks.toFixed(2)} cores, other processes ${p.writeCpuOthers.toFixed(2)} cores; ` +
          `failed sync rounds ${p.failedRounds}\n` +
          `  per stack: median visible ${p.byStack.map((x) => round(x)).join(" ")} ms; ` +
          `idle CPU ${p.idleCpuEach.map((x) => x.toFixed(3)).join(" ")} cores`,
      );
    }
  } finally {
    await Promise.all(stacks.map((s) => s.stop()));
    for (const s of stacks) rmSync(s.dir, { recursive: true, force: true });
  }
  const figures = phases.flatMap(figuresOf);
  report("scale", figures, root);
  return figures;
}
