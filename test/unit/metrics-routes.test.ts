/** The metrics worker's routes (:9091), through the metrics worker that runs beside this cell. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";

const metrics = (path: string, init?: RequestInit) => env.METRICS_HTTP.fetch(`http://127.0.0.1:9091${path}`, init);
const scrape = async () => (await metrics("/metrics")).text();

/** The value of one sample, or undefined when the scrape has no such line. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("metrics /health", () => {
  it("answers OK as plain text", async () => {
    const res = await metrics("/health");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await res.text()).toBe("OK\n");
  });
});

describe("metrics /metrics", () => {
  it("is text format 0.0.4: every family once with HELP and TYPE, every sample a name, labels and a number", async () => {
    const res = await metrics("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    expect(text.endsWith("\n")).toBe(true);
    const help = new Map<string, number>();
    const type = new Map<string, string>();
    for (const line of text.trimEnd().split("\n")) {
      const h = /^# HELP (\w+) \S/.exec(line);
      const t = /^# TYPE (\w+) (counter|gauge|histogram)$/.exec(line);
      if (h) help.set(h[1]!, (help.get(h[1]!) ?? 0) + 1);
      else if (t) type.set(t[1]!, t[2]!);
      else expect(line).toMatch(/^\w+(\{(\w+="(?:[^"\\]|\\.)*",?)*\})? -?(\d+(\.\d+)?(e[+-]?\d+)?|\+Inf|NaN)$/);
    }
    for (const [name, n] of help) expect(n, name).toBe(1);
    expect([...help.keys()].sort()).toEqual([...type.keys()].sort());
    for (const family of [
      "aios_build_info",
      "aios_uptime_seconds",
      "aios_cell_up",
      "aios_discovery_up",
      "aios_consciousness_level",
      "aios_http_requests_total",
      "aios_http_request_duration_seconds",
      "aios_sync_rounds_total",
      "aios_runtime_restarts_total",
    ]) {
      expect(type.has(family), family).toBe(true);
    }
  });

  it("reports this cell: up, discovery up, and the level the cell measures", async () => {
    const text = await scrape();
    expect(sample(text, 'aios_cell_up{cell_id="unit-cell"}')).toBe(1);
    expect(sample(text, 'aios_discovery_up{cell_id="unit-cell"}')).toBe(1);
    const level = sample(text, 'aios_consciousness_level{cell_id="unit-cell"}');
    expect(level).toBeGreaterThanOrEqual(0.85);
    expect(level).toBeLessThanOrEqual(1);
    expect(text).toMatch(/^aios_build_info\{version="\d+\.\d+\.\d+",cell_id="unit-cell"\} 1$/m);
  });

  it("counts its own requests by route pattern and status, durably, never by raw path", async () => {
    const series = 'aios_http_requests_total{service="metrics",route="/health",status="200"}';
    // Requests of earlier tests may still be on their way to the store (batches every 250 ms): start
    // from a count that no longer moves.
    let before = sample(await scrape(), series) ?? 0;
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 300));
      const now = sample(await scrape(), series) ?? 0;
      if (now === before) break;
      before = now;
    }
    for (let i = 0; i < 5; i++) expect((await metrics("/health")).status).toBe(200);
    expect((await metrics("/no-such-path-7f3a")).status).toBe(404);
    // Counts reach the store in batches every 250 ms: wait for this one (bounded).
    let text = await scrape();
    for (let i = 0; i < 40 && sample(text, series) !== before + 5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      text = await scrape();
    }
    expect(sample(text, series)).toBe(before + 5);
    expect(text).not.toContain("no-such-path-7f3a");
  });

  it("unknown paths are a JSON 404 and wrong methods a JSON 405", async () => {
    const missing = await metrics("/nowhere");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toHaveProperty("error");
    const wrong = await metrics("/metrics", { method: "POST", body: "x" });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toMatch(/GET/);
  });
});
