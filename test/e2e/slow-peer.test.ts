/**
 * A peer that answers slowly. Stack B sits behind a delaying TCP proxy on another loopback
 * address and advertises the proxy's address, so A and C reach B only through it (B reaches them
 * directly: it answers slowly, it does not call slowly). With a delay well under discovery's probe
 * timeout, B is never declared dead, a write on A reaches C as fast as without the slowdown, and B
 * converges too. `npm run soak` sets AIOS_SOAK=1, which keeps B slow for a minute of writes instead of a
 * few seconds.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { median } from "../../harness/measure";
import { DelayProxy } from "../helpers/delay-proxy";
import { PORTS, TestStack, converged, sleep, until } from "../../harness/stack";

/** AIOS_SOAK=1 (set by `npm run soak`): the long form. */
const SOAK = process.env["AIOS_SOAK"] === "1";
const ENV = { AIOS_CLUSTER_SECRET: "slow-secret", AIOS_API_TOKEN: "slow-token" };
const IP = { a: "127.0.53.1", b: "127.0.53.2", c: "127.0.53.3", proxy: "127.0.53.5" };
/** Discovery's probe timeout (PROBE_TIMEOUT_MS in lib/peer-health.ts, which Node cannot type-check here; the test checks the copy). */
const PROBE_TIMEOUT_MS = 1500;
/** Added to every chunk each way: a heartbeat to B takes at least 2 × 250 ms, a third of the probe timeout. */
const DELAY_MS = 250;
/** How long B stays slow while A writes. */
const SLOW_MS = SOAK ? 60_000 : 5000;

type Peer = { cell_id: string; url: string; status: string; rtt_ms: number | null };

const has = async (s: TestStack, name: string) =>
  ((await (await s.api(`/memory/open_nodes?name=${name}`)).json()) as { entities: unknown[] }).entities.length > 0;
const peersOf = async (s: TestStack) => (await s.json<{ peers: Peer[] }>("discovery", "/peers")).peers;

/** Writes a new entity on `from` and answers, per stack in `to`, the ms until it is readable there. */
async function propagate(from: TestStack, to: TestStack[], name: string, timeoutMs = 15_000): Promise<number[]> {
  const t = performance.now();
  await from.memory("create_entities", { entities: [{ name, entityType: "probe", observations: [] }] });
  return Promise.all(to.map((s) => until(() => has(s, name), timeoutMs, 20).then(() => Math.round(performance.now() - t))));
}

describe("a slow peer", () => {
  let proxy: DelayProxy;
  let a: TestStack, b: TestStack, c: TestStack;
  const baseline: number[] = [];

  beforeAll(async () => {
    proxy = await DelayProxy.start({ host: IP.proxy, targetHost: IP.b, ports: [PORTS.cell, PORTS.discovery] });
    // Assigned before they are ready, so afterAll stops them whatever happens while they start.
    [a, b, c] = await Promise.all([
      TestStack.start({
        ip: IP.a,
        cellId: "slow-a",
        env: { ...ENV, AIOS_NETWORK_PEERS: `${IP.proxy},${IP.c}` },
        waitReady: false,
      }),
      TestStack.start({ ip: IP.b, cellId: "slow-b", env: { ...ENV, AIOS_ADVERTISE_HOST: IP.proxy }, waitReady: false }),
      TestStack.start({ ip: IP.c, cellId: "slow-c", env: { ...ENV, AIOS_NETWORK_PEERS: IP.proxy }, waitReady: false }),
    ]);
    await Promise.all([a, b, c].map((s) => s.ready(90_000)));
    const alive = async (s: TestStack) => (await peersOf(s)).filter((p) => p.status === "alive").length;
    await until(async () => (await alive(a)) === 2 && (await alive(b)) === 2 && (await alive(c)) === 2, 30_000).catch(
      async (e: Error) => {
        const views = await Promise.all([a, b, c].map(async (s) => JSON.stringify(await peersOf(s).catch(String))));
        throw new Error(`${e.message}: peers as A, B and C see them: ${views.join("\n")}`);
      },
    );
  }, 150_000);

  afterAll(async () => {
    await Promise.all([a, b, c].map((s) => s?.stop()));
    await proxy?.close();
  });

  it("A and C know B only by the proxy's address; with no delay a write on A reaches C and B quickly", async () => {
    for (const s of [a, c]) {
      const toB = (await peersOf(s)).find((p) => p.cell_id === "slow-b")!;
      expect(toB.url).toBe(`http://${IP.proxy}:${PORTS.cell}`);
    }
    expect(proxy.connections).toBeGreaterThan(0);
    await propagate(a, [c, b], "Warm-up");
    baseline.length = 0;
    const toB: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [c1, b1] = await propagate(a, [c, b], `Base-${i}`);
      baseline.push(c1!);
      toB.push(b1!);
    }
    console.log(`slow peer: no delay: A→C ${baseline.join(", ")} ms; A→B ${toB.join(", ")} ms`);
  });

  it(
    `B answering ${DELAY_MS} ms late each way is never declared dead, does not slow A→C, and converges`,
    { timeout: SOAK ? 180_000 : 60_000 },
    async () => {
      // The copy above is discovery's real probe timeout, and the delay stays well inside it.
      const source = readFileSync(path.resolve(import.meta.dirname, "../../lib/peer-health.ts"), "utf8");
      expect(Number(/PROBE_TIMEOUT_MS = (\d+)/.exec(source)?.[1])).toBe(PROBE_TIMEOUT_MS);
      expect(2 * DELAY_MS).toBeLessThan(PROBE_TIMEOUT_MS / 2);
      expect(baseline.length).toBe(5);
      const gaveUpBefore = new Map(proxy.gaveUp);
      const closedBefore = new Map(proxy.closedUnder);
      proxy.delayMs = DELAY_MS;
      try {
        // A's own probes of B now go the slow way, and succeed: the round trip it measures shows the delay.
        await until(async () => {
          const toB = (await peersOf(a)).find((p) => p.cell_id === "slow-b");
          return (toB?.rtt_ms ?? 0) >= 2 * DELAY_MS;
        }, 15_000);

        // Watch how A and C see B, every 200 ms, for as long as B is slow.
        const seen: string[] = [];
        let samples = 0;
        let watching = true;
        const watcher = (async () => {
          for (let n = 0; watching && n < 10_000; n++) {
            for (const [who, s] of [
              ["A", a],
              ["C", c],
            ] as const) {
              const peers = await peersOf(s).catch(() => undefined);
              if (!peers) continue;
              samples++;
              const toB = peers.find((p) => p.cell_id === "slow-b");
              if (toB?.status !== "alive") seen.push(`${who} saw B ${toB?.status ?? "missing"} at ${new Date().toISOString()}`);
            }
            await sleep(200);
          }
        })();

        // A writes while B is slow; each write must reach C in about the time it did before.
        const slow: number[] = [];
        const pending: Promise<unknown>[] = [];
        const end = Date.now() + SLOW_MS;
        for (let i = 0; Date.now() < end && i < 5000; i++) {
          const name = `Slow-${i}`;
          const [toC] = await propagate(a, [c], name);
          slow.push(toC!);
          // B gets it too, later (not waited for here, so B cannot hold up the next write); B writes too.
          pending.push(
            until(() => has(b, name), 20_000, 50),
            b.memory("create_entities", { entities: [{ name: `FromB-${i}`, entityType: "probe", observations: [] }] }),
          );
        }
        const writesDone = performance.now();
        await Promise.all(pending);
        // Every write on B (sent to it directly) and on A is everywhere: identical digests.
        const digest = await converged([a, b, c], 20_000);
        const convergedMs = Math.round(performance.now() - writesDone);
        expect(digest).toMatch(/^[0-9a-f]{64}$/);
        watching = false;
        await watcher;

        const [p50, worst, base] = [median(slow), Math.max(...slow), median(baseline)];
        const rtt = (await peersOf(a)).find((p) => p.cell_id === "slow-b")!.rtt_ms;
        const since = (now: Map<number, number>, before: Map<number, number>) =>
          [PORTS.cell, PORTS.discovery].map((port) => (now.get(port) ?? 0) - (before.get(port) ?? 0));
        const gaveUp = since(proxy.gaveUp, gaveUpBefore);
        const closedUnder = since(proxy.closedUnder, closedBefore);
        console.log(
          `slow peer: B ${DELAY_MS} ms late each way (A's probe rtt to B ${rtt} ms): ${slow.length} writes on A, ` +
            `A→C median ${p50} ms, worst ${worst} ms (no delay: median ${base} ms); all three identical ${convergedMs} ms ` +
            `after the last write; B not alive in ${seen.length} of ${samples} samples; ` +
            `calls to B given up: ${gaveUp[0]} on :${PORTS.cell}, ${gaveUp[1]} on :${PORTS.discovery}; ` +
            `idle connections B closed as a request was sent: ${closedUnder[0]} on :${PORTS.cell}, ${closedUnder[1]} on :${PORTS.discovery}` +
            (seen.length ? `\n${seen.slice(0, 10).join("\n")}` : ""),
        );
        expect(samples).toBeGreaterThan(0);
        expect(
          seen.filter((s) => !s.includes("suspect")),
          "B declared dead",
        ).toEqual([]);
        expect(seen, "B never even suspect").toEqual([]);
        // No call to B timed out on its caller's side: B is slow, not failing. (B closing an idle
        // keep-alive connection just as a caller reuses it is counted apart: the delay widens that race,
        // and the caller's HTTP client retries on a new connection.)
        expect(gaveUp).toEqual([0, 0]);
        // Not stalled behind B: A→C stays about as fast as without the slowdown. Were C's pulls from A
        // to wait for its pulls from B, or A's pokes for B, writes would wait for a sync round (1 s + B's delay).
        expect(p50).toBeLessThan(2 * base + 500);
        expect(worst).toBeLessThan(Math.max(5 * base, 3000));
      } finally {
        proxy.delayMs = 0;
      }
    },
  );
});
