import { describe, expect, it } from "vitest";
import { DURATION_BUCKETS, MetricsBuffer, bucketIndex, type MetricsBatch } from "../../lib/metrics-buffer";

describe("request metrics buffer", () => {
  it("puts a duration in the first bucket that holds it, +Inf last", () => {
    expect(bucketIndex(0)).toBe(0);
    expect(bucketIndex(0.001)).toBe(0);
    expect(bucketIndex(0.0011)).toBe(1);
    expect(bucketIndex(10)).toBe(DURATION_BUCKETS.length - 1);
    expect(bucketIndex(11)).toBe(DURATION_BUCKETS.length);
  });

  it("counts per route and status, labelled with its service, and a flush drains it", async () => {
    const m = new MetricsBuffer("cell");
    m.observe("/health", 200, 0.0005);
    m.observe("/health", 200, 0.003);
    m.observe("/health", 503, 0.2);
    m.observe("/context", 200, 0.0005);
    const batches: MetricsBatch[] = [];
    await m.flush({ record: async (b) => void batches.push(b) });
    const series = batches[0]!.requests.map((r) => `${r.service} ${r.route} ${r.status} ${r.count} ${r.buckets.join("")}`);
    expect(series.sort()).toEqual([
      "cell /context 200 1 10000000000000",
      "cell /health 200 2 10100000000000",
      "cell /health 503 1 00000001000000",
    ]);
    expect(batches[0]!.requests.find((r) => r.status === "200" && r.route === "/health")!.sum).toBeCloseTo(0.0035);
    await m.flush({ record: async (b) => void batches.push(b) });
    expect(batches).toHaveLength(1);
    m.observe("/health", 200, 0.0005);
    await m.flush({ record: async (b) => void batches.push(b) });
    expect(batches[1]!.requests.map((r) => r.count)).toEqual([1]);
  });

  it("keeps the counts when the store cannot be reached, and adds new ones to them", async () => {
    const m = new MetricsBuffer("cell");
    m.observe("/context", 200, 0.002);
    await m.flush({ record: () => Promise.reject(new Error("down")) });
    m.observe("/context", 200, 0.002);
    const batches: MetricsBatch[] = [];
    await m.flush({ record: async (b) => void batches.push(b) });
    expect(batches[0]!.requests).toHaveLength(1);
    expect(batches[0]!.requests[0]!.count).toBe(2);
    expect(batches[0]!.requests[0]!.sum).toBeCloseTo(0.004);
    expect(batches[0]!.requests[0]!.buckets.slice(0, 3)).toEqual([0, 2, 0]);
  });
});
