/**
 * MetricsStore, run in this isolate: request series and counters add up, are stored (not kept in
 * memory), and render as Prometheus text with every family declared. Each test has its own store.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { COUNTER_HELP, type MetricsStore } from "../../durable-objects/metrics-store";
import { DURATION_BUCKETS, type RequestSeries } from "../../lib/metrics-buffer";
import { inObject } from "./helpers";

let n = 0;
const freshStore = () => env.TEST_METRICS.get(env.TEST_METRICS.idFromName(`store-${Date.now()}-${n++}`));
type Stub = ReturnType<typeof freshStore>;
const run = <R>(stub: Stub, fn: (store: MetricsStore, state: DurableObjectState) => R | Promise<R>) =>
  inObject<MetricsStore, R>(stub, fn);

/** One series: `counts[i]` requests in bucket i (non-cumulative, the last one +Inf). */
function series(route: string, status: string, counts: number[], sum: number): RequestSeries {
  const buckets = new Array<number>(DURATION_BUCKETS.length + 1).fill(0);
  counts.forEach((c, i) => (buckets[i] = c));
  return { service: "cell", route, status, count: counts.reduce((a, b) => a + b, 0), sum, buckets };
}

const line = (text: string, prefix: string) => text.split("\n").find((l) => l.startsWith(prefix));

describe("MetricsStore", () => {
  it("declares every family with HELP and TYPE before it has a sample", async () => {
    const text = await run(freshStore(), (s) => s.exposition());
    for (const family of ["aios_http_requests_total", "aios_http_request_duration_seconds", ...Object.keys(COUNTER_HELP)]) {
      expect(text).toMatch(new RegExp(`^# HELP ${family} \\S`, "m"));
      expect(text).toMatch(new RegExp(`^# TYPE ${family} (counter|histogram)$`, "m"));
    }
    expect(text.split("\n").filter((l) => l && !l.startsWith("#"))).toEqual([]);
  });

  it("adds batches of request series; the histogram folds statuses into cumulative buckets per route", async () => {
    const stub = freshStore();
    await run(stub, (s) =>
      s.record({ requests: [series("/health", "200", [3, 1], 0.004), series("/health", "500", [0, 0, 2], 0.009)] }),
    );
    await run(stub, (s) => s.record({ requests: [series("/health", "200", [1], 0.0005)] }));
    const text = await run(stub, (s) => s.exposition());
    expect(line(text, 'aios_http_requests_total{service="cell",route="/health",status="200"}')).toMatch(/ 5$/);
    expect(line(text, 'aios_http_requests_total{service="cell",route="/health",status="500"}')).toMatch(/ 2$/);
    const bucket = (le: string) =>
      Number(line(text, `aios_http_request_duration_seconds_bucket{service="cell",route="/health",le="${le}"}`)!.split(" ")[1]);
    expect(bucket("0.001")).toBe(4);
    expect(bucket("0.0025")).toBe(5);
    expect(bucket("0.005")).toBe(7);
    expect(bucket("+Inf")).toBe(7);
    expect(line(text, 'aios_http_request_duration_seconds_count{service="cell",route="/health"}')).toMatch(/ 7$/);
    expect(
      Number(line(text, 'aios_http_request_duration_seconds_sum{service="cell",route="/health"}')!.split(" ")[1]),
    ).toBeCloseTo(0.0135, 6);
  });

  it("adds counter deltas by name and labels, whatever the order the labels come in", async () => {
    const stub = freshStore();
    await run(stub, (s) =>
      s.add([
        { name: "aios_sync_rounds_total", labels: { cell_id: "a", peer_id: "b", result: "ok" }, delta: 2 },
        { name: "aios_sync_rounds_total", labels: { result: "ok", peer_id: "b", cell_id: "a" }, delta: 3 },
        { name: "aios_sync_rounds_total", labels: { cell_id: "a", peer_id: "b", result: "error" }, delta: 1 },
      ]),
    );
    const text = await run(stub, (s) => s.exposition());
    const samples = text.split("\n").filter((l) => l.startsWith("aios_sync_rounds_total{"));
    expect(samples).toHaveLength(2);
    expect(samples.find((l) => l.includes('result="ok"'))).toMatch(/ 5$/);
    expect(samples.find((l) => l.includes('result="error"'))).toMatch(/ 1$/);
  });

  it("counts a boot after a crash as a restart, once per boot id; an ordinary start is not one", async () => {
    const stub = freshStore();
    await run(stub, (s) => s.noteBoot("boot-1", "start", "c1"));
    await run(stub, (s) => s.noteBoot("boot-2", "restart", "c1"));
    await run(stub, (s) => s.noteBoot("boot-2", "restart", "c1"));
    await run(stub, (s) => s.noteBoot("boot-3", "restart", "c1"));
    const text = await run(stub, (s) => s.exposition());
    expect(line(text, 'aios_runtime_restarts_total{cell_id="c1"}')).toMatch(/ 2$/);
  });

  it("answers a scrape after each change with the change in it, from what is stored", async () => {
    const stub = freshStore();
    await run(stub, (s) => s.record({ requests: [series("/x", "200", [1], 0.0001)] }));
    expect(line(await run(stub, (s) => s.exposition()), 'aios_http_requests_total{service="cell",route="/x"')).toMatch(/ 1$/);
    await run(stub, (s) => s.record({ requests: [series("/x", "200", [1], 0.0001)] }));
    expect(line(await run(stub, (s) => s.exposition()), 'aios_http_requests_total{service="cell",route="/x"')).toMatch(/ 2$/);
    const stored = await run(stub, (_s, state) =>
      state.storage.sql.exec<{ count: number }>("SELECT count FROM requests WHERE route = '/x'").one(),
    );
    expect(stored.count).toBe(2);
  });
});
