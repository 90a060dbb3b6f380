/**
 * Scrape cost of :9091/metrics with 50 known peers: 50 fake peers are
 * registered by hand (nothing listens at their addresses, so discovery soon
 * sees them suspect or dead and sync rounds with them fail: per-peer series of
 * every kind), then 200 sequential scrapes are timed against GET /health of
 * the same worker in the same run (the cost of an HTTP round trip to it).
 */
import { TestStack, until } from "../harness/stack";
import { report, type Figure } from "./stats";
import { median, percentile } from "../harness/measure";

const PEERS = 50;
const SCRAPES = 200;
const WARMUP = 20;
const TOKEN = "bench";

async function timed(url: string): Promise<{ ms: number; body: string }> {
  const t = performance.now();
  const r = await fetch(url);
  const body = await r.text();
  const ms = performance.now() - t;
  if (r.status !== 200) throw new Error(`${url} answered ${r.status}: ${body.slice(0, 200)}`);
  return { ms, body };
}

export async function benchMetrics(root: string): Promise<Figure[]> {
  const stack = await TestStack.start({
    ip: "127.0.44.20",
    cellId: "metrics-bench",
    env: { AIOS_API_TOKEN: TOKEN, AIOS_LOG_LEVEL: "error" },
  });
  try {
    for (let n = 1; n <= PEERS; n++) {
      const r = await fetch(stack.url("discovery", "/register"), {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ cell_id: `peer-${n}`, ip: `127.0.45.${n}`, port: 8000 }),
      });
      if (r.status !== 201) throw new Error(`register peer-${n}: ${r.status} ${await r.text()}`);
    }
    const metricsUrl = stack.url("metrics", "/metrics");
    const healthUrl = stack.url("metrics", "/health");
    // Every peer is in the scrape, and the sync loop has tried them (failed rounds are series too).
    const scrape = await until(
      async () => {
        const { body } = await timed(metricsUrl);
        const up = body.match(/^aios_peer_up\{/gm)?.length ?? 0;
        const rounds = body.match(/^aios_sync_rounds_total\{/gm)?.length ?? 0;
        return up === PEERS && rounds >= PEERS && body;
      },
      30_000,
      200,
    );
    for (let i = 0; i < WARMUP; i++) {
      await timed(healthUrl);
      await timed(metricsUrl);
    }
    // Interleaved, so both see the same machine load.
    const health: number[] = [];
    const metrics: number[] = [];
    for (let i = 0; i < SCRAPES; i++) {
      health.push((await timed(healthUrl)).ms);
      metrics.push((await timed(metricsUrl)).ms);
    }
    const series = scrape.split("\n").filter((l) => l && !l.startsWith("#")).length;
    const m50 = median(metrics);
    const h50 = median(health);
    const figures: Figure[] = [
      {
        figure: `GET /metrics with ${PEERS} peers, ${SCRAPES} sequential scrapes (median)`,
        value: m50,
        unit: "ms",
        reference: "GET /health on :9091, same run (median)",
        referenceValue: h50,
        ratio: m50 / h50,
        target: "< 5 ms",
        met: m50 < 5,
      },
      {
        figure: `GET /metrics with ${PEERS} peers (p99)`,
        value: percentile(metrics, 99),
        unit: "ms",
        reference: "GET /health on :9091, same run (p99)",
        referenceValue: percentile(health, 99),
        ratio: percentile(metrics, 99) / percentile(health, 99),
      },
      {
        // Each scrape minus the /health request timed just before it: the scrape's own cost, without the HTTP round trip.
        figure: "GET /metrics minus GET /health, per interleaved pair (median)",
        value: median(metrics.map((m, i) => m - health[i]!)),
        unit: "ms",
      },
      { figure: "scrape size", value: Buffer.byteLength(scrape), unit: "bytes" },
      { figure: "samples per scrape", value: series, unit: "samples" },
    ];
    report("metrics", figures, root);
    return figures;
  } finally {
    await stack.stop();
  }
}
