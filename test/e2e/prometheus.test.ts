/**
 * GET :9091/metrics scraped by a REAL Prometheus. Two stacks on
 * 127.0.44.1 and 127.0.44.2 (one cluster secret, so peer and sync series
 * exist); Prometheus on 127.0.44.10:9090 scrapes the first every second.
 *
 * - Prometheus sees the target up, the consciousness level, peers and sync;
 * - aios_http_requests_total{service="cell"} rises in Prometheus after traffic;
 * - `promtool check metrics` prints nothing (no lint warnings) for a scrape;
 * - every family is listed with a meaningful HELP and TYPE, label values are
 *   route patterns and cell ids, never raw paths;
 * - counters survive a restart of the stack on the same data folder (and
 *   Prometheus sees no counter reset across it).
 *
 * Prometheus and promtool come from Debian's `prometheus` package, which
 * .ci/run installs; without them those checks are skipped with a warning.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestStack, until } from "../../harness/stack";

const ENV = { AIOS_CLUSTER_SECRET: "prom-secret", AIOS_API_TOKEN: "prom-token", AIOS_LOG_LEVEL: "warn" };
const PROM_ADDR = "127.0.44.10:9090";
const PROM = `http://${PROM_ADDR}`;

/** A binary on PATH or in Debian's /usr/bin, if it runs. */
function findBinary(name: string): string | undefined {
  for (const candidate of [name, `/usr/bin/${name}`]) {
    const r = spawnSync(candidate, ["--version"], { encoding: "utf8", timeout: 10_000 });
    if (r.error === undefined && r.status === 0) return candidate;
  }
  return undefined;
}
const prometheusBin = findBinary("prometheus");
const promtoolBin = findBinary("promtool");
if (!prometheusBin || !promtoolBin) {
  console.warn(
    `\n*** ${[!prometheusBin && "prometheus", !promtoolBin && "promtool"].filter(Boolean).join(" and ")} NOT FOUND: ` +
      "SKIPPING the real-Prometheus and promtool checks of :9091/metrics.\n" +
      "*** .ci/run installs Debian's `prometheus` package (apt-get install prometheus), which provides\n" +
      "*** /usr/bin/prometheus and /usr/bin/promtool; install it to run these checks locally.\n",
  );
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(expr: string): Promise<Sample[]> {
  const r = await fetch(`${PROM}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await r.json()) as { status: string; error?: string; data?: { result: Sample[] } };
  if (body.status !== "success") throw new Error(`${expr}: ${body.error ?? r.status}`);
  return body.data!.result;
}

/** The single value of a query that should give one series, or undefined while it gives none. */
async function scalar(expr: string): Promise<number | undefined> {
  const result = await query(expr);
  return result.length === 1 ? Number(result[0]!.value[1]) : undefined;
}

async function scrape(s: TestStack): Promise<string> {
  const r = await fetch(s.url("metrics", "/metrics"));
  expect(r.status).toBe(200);
  return r.text();
}

/** The value of one sample in exposition text, e.g. `aios_x{a="b"}`, or undefined. */
function sampleValue(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("metrics on 127.0.44.1, scraped by a real Prometheus", () => {
  let a: TestStack;
  let b: TestStack;
  let prometheus: ChildProcess | undefined;
  let promOutput = "";
  const promDir = mkdtempSync(path.join(os.tmpdir(), "aios-prometheus-"));

  beforeAll(async () => {
    [a, b] = await Promise.all([
      TestStack.start({ ip: "127.0.44.1", cellId: "prom-a", env: { ...ENV, AIOS_NETWORK_PEERS: "127.0.44.2" } }),
      TestStack.start({ ip: "127.0.44.2", cellId: "prom-b", env: ENV }),
    ]);
    if (prometheusBin) {
      const config = path.join(promDir, "prometheus.yml");
      writeFileSync(
        config,
        [
          "global:",
          "  scrape_interval: 1s",
          "  scrape_timeout: 1s",
          "  evaluation_interval: 1s",
          "scrape_configs:",
          "  - job_name: aios",
          "    metrics_path: /metrics",
          "    static_configs:",
          "      - targets: ['127.0.44.1:9091']",
          "",
        ].join("\n"),
      );
      prometheus = spawn(
        prometheusBin,
        [
          `--config.file=${config}`,
          `--storage.tsdb.path=${path.join(promDir, "data")}`,
          `--web.listen-address=${PROM_ADDR}`,
          "--log.level=warn",
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      prometheus.stdout!.on("data", (d: Buffer) => (promOutput += d.toString()));
      prometheus.stderr!.on("data", (d: Buffer) => (promOutput += d.toString()));
      await until(
        async () => {
          if (prometheus!.exitCode !== null) throw new Error(`prometheus exited with ${prometheus!.exitCode}: ${promOutput}`);
          return (await fetch(`${PROM}/-/ready`)).ok;
        },
        30_000,
        200,
      );
    }
    // The two cells see each other and have synced at least once.
    await until(
      async () => /aios_sync_rounds_total\{cell_id="prom-a",peer_id="prom-b",result="ok"\} \d/.test(await scrape(a)),
      30_000,
      200,
    );
  });

  afterAll(async () => {
    if (prometheus?.pid !== undefined && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus!.once("exit", r));
      process.kill(prometheus.pid, "SIGTERM");
      const timer = setTimeout(() => prometheus?.pid !== undefined && process.kill(prometheus.pid, "SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await Promise.all([a?.stop(), b?.stop()]);
    rmSync(promDir, { recursive: true, force: true });
  });

  it("lists every family with a meaningful HELP and a TYPE, with peer and sync series", async () => {
    const text = await scrape(a);
    const families: [string, string][] = [
      ["aios_build_info", "gauge"],
      ["aios_uptime_seconds", "gauge"],
      ["aios_cell_up", "gauge"],
      ["aios_discovery_up", "gauge"],
      ["aios_consciousness_level", "gauge"],
      ["aios_consciousness_primitive", "gauge"],
      ["aios_graph_entities", "gauge"],
      ["aios_graph_observations", "gauge"],
      ["aios_graph_relations", "gauge"],
      ["aios_messages", "gauge"],
      ["aios_peers", "gauge"],
      ["aios_peer_up", "gauge"],
      ["aios_peer_rtt_seconds", "gauge"],
      ["aios_sync_lag_seconds", "gauge"],
      ["aios_sync_in_sync", "gauge"],
      ["aios_http_requests_total", "counter"],
      ["aios_http_request_duration_seconds", "histogram"],
      ["aios_sync_rounds_total", "counter"],
      ["aios_sync_rows_total", "counter"],
      ["aios_sync_bytes_total", "counter"],
      ["aios_runtime_restarts_total", "counter"],
    ];
    for (const [name, type] of families) {
      const help = new RegExp(`^# HELP ${name} (.+)$`, "m").exec(text)?.[1] ?? "";
      expect(help.length, `${name} HELP`).toBeGreaterThan(20);
      expect(help, `${name} HELP`).not.toBe(name);
      expect(text, name).toMatch(new RegExp(`^# TYPE ${name} ${type}$`, "m"));
    }
    // Every family appears once (samples of a family are never split).
    const types = [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]);
    expect(new Set(types).size).toBe(types.length);

    expect(text).toMatch(/^aios_consciousness_level\{cell_id="prom-a"\} (0|1|0\.\d+)$/m);
    // The same level the cell reports (adaptation decays by the second, hence the tolerance).
    const level = (await a.json<{ consciousness_level: number }>("cell", "/consciousness/primitives")).consciousness_level;
    expect(Math.abs(sampleValue(text, 'aios_consciousness_level{cell_id="prom-a"}')! - level)).toBeLessThan(0.02);
    for (const p of ["awareness", "coherence", "adaptation", "momentum"]) {
      expect(text).toMatch(new RegExp(`^aios_consciousness_primitive\\{cell_id="prom-a",primitive="${p}"\\} [\\d.e-]+$`, "m"));
    }
    expect(text).toMatch(/^aios_peers\{cell_id="prom-a",status="alive"\} 1$/m);
    expect(text).toMatch(/^aios_peer_up\{cell_id="prom-a",peer_id="prom-b"\} 1$/m);
    expect(text).toMatch(/^aios_peer_rtt_seconds\{cell_id="prom-a",peer_id="prom-b"\} [\d.e-]+$/m);
    expect(text).toMatch(/^aios_sync_lag_seconds\{cell_id="prom-a",peer_id="prom-b"\} [\d.e-]+$/m);
    expect(text).toMatch(/^aios_sync_in_sync\{cell_id="prom-a",peer_id="prom-b"\} [01]$/m);
    expect(text).toMatch(/^aios_graph_entities\{cell_id="prom-a"\} \d+$/m);
    expect(text).toMatch(/^aios_messages\{cell_id="prom-a"\} \d+$/m);
  });

  it("labels carry route patterns and cell ids, never raw paths or user data", async () => {
    // Requests to many distinct raw paths and ids must not make new series.
    for (let i = 0; i < 5; i++) {
      await fetch(a.url("cell", `/no/such/path-${i}?q=secret-${i}`));
      await fetch(a.url("discovery", `/unregister/ghost-${i}`), {
        method: "DELETE",
        headers: { authorization: `Bearer ${ENV.AIOS_API_TOKEN}` },
      });
    }
    await a.api("/memory/create_entities", {
      method: "POST",
      body: JSON.stringify({ namespace: "prom", entities: [{ name: "UserSecretName", entityType: "t", observations: [] }] }),
    });
    const text = await until(
      async () => {
        const t = await scrape(a);
        return /route="\/unregister\/:cell_id"/.test(t) && /route="unmatched"/.test(t) && t;
      },
      10_000,
      100,
    );
    expect(text).not.toMatch(/path-\d|secret-\d|ghost-\d|UserSecretName/);
    for (const m of text.matchAll(/(?:peer_id|cell_id)="([^"]*)"/g)) expect(m[1]).toMatch(/^[a-z0-9][a-z0-9._-]{0,62}$/);
    for (const m of text.matchAll(/route="([^"]*)"/g)) expect(m[1]).toMatch(/^(\/[\w:.-]*)+$|^unmatched$/);
  });

  it.skipIf(!promtoolBin)("`promtool check metrics` prints nothing for a scrape", async () => {
    const text = await scrape(a);
    const r = spawnSync(promtoolBin!, ["check", "metrics"], { input: text, encoding: "utf8", timeout: 30_000 });
    expect(`${r.stdout}${r.stderr}`).toBe("");
    expect(r.status).toBe(0);
  });

  it.skipIf(!prometheusBin)("Prometheus scrapes the target: up, the level, peers and sync", async () => {
    expect(await until(async () => (await scalar('up{job="aios"}')) === 1, 20_000, 250)).toBe(true);
    const level = await until(async () => scalar('aios_consciousness_level{job="aios",cell_id="prom-a"}'), 20_000, 250);
    expect(level).toBeGreaterThanOrEqual(0);
    expect(level).toBeLessThanOrEqual(1);
    expect(await until(async () => (await scalar('aios_peer_up{peer_id="prom-b"}')) === 1, 20_000, 250)).toBe(true);
    const rounds = await until(async () => scalar('sum(aios_sync_rounds_total{peer_id="prom-b",result="ok"})'), 20_000, 250);
    expect(rounds).toBeGreaterThan(0);
    expect((await query('aios_http_request_duration_seconds_bucket{service="metrics",route="/metrics",le="+Inf"}')).length).toBe(
      1,
    );
  });

  it.skipIf(!prometheusBin)('aios_http_requests_total{service="cell"} rises in Prometheus after traffic', async () => {
    const expr = 'sum(aios_http_requests_total{job="aios",service="cell"})';
    const discover = 'aios_http_requests_total{job="aios",service="cell",route="/discover",status="200"}';
    // The /discover series exists in Prometheus before the traffic, so increase() has two samples to compare.
    await fetch(a.url("cell", "/discover"));
    await until(async () => (await scalar(discover)) !== undefined, 20_000, 250);
    const before = await until(async () => scalar(expr), 20_000, 250);
    for (let i = 0; i < 25; i++) await fetch(a.url("cell", "/discover"));
    // A few scrapes (1 s apart) later Prometheus has the new total.
    const after = await until(
      async () => {
        const v = await scalar(expr);
        return v !== undefined && v >= before + 25 && v;
      },
      15_000,
      250,
    );
    expect(after).toBeGreaterThanOrEqual(before + 25);
    expect(await scalar(`increase(${discover}[1m])`)).toBeGreaterThanOrEqual(20);
  });

  it("counters survive a restart of the stack on the same data folder", async () => {
    const series = 'aios_http_requests_total{service="cell",route="/consciousness",status="200"}';
    // Nothing else calls /consciousness, so its count is exactly ours.
    for (let i = 0; i < 7; i++) expect((await fetch(a.url("cell", "/consciousness"))).status).toBe(200);
    await until(async () => sampleValue(await scrape(a), series) === 7, 10_000, 100);
    if (prometheusBin) await until(async () => (await scalar(series)) === 7, 15_000, 250);

    const dir = a.dir;
    expect(await a.stop()).toBe(0);
    // Prometheus notices the target is down before it comes back.
    if (prometheusBin) await until(async () => (await scalar('up{job="aios"}')) === 0, 15_000, 250);
    a = await TestStack.start({ ip: "127.0.44.1", cellId: "prom-a", dir, env: { ...ENV, AIOS_NETWORK_PEERS: "127.0.44.2" } });
    expect(sampleValue(await scrape(a), series)).toBe(7);
    await fetch(a.url("cell", "/consciousness"));
    await until(async () => sampleValue(await scrape(a), series) === 8, 10_000, 100);

    if (prometheusBin) {
      // Prometheus saw the target go down and come back, and the counter went on from 7: no reset.
      await until(async () => (await scalar(series)) === 8, 20_000, 250);
      expect(await scalar('min_over_time(up{job="aios"}[5m])')).toBe(0);
      expect(await scalar(`resets(${series}[5m])`)).toBe(0);
    }
  });

  it("metrics /health answers OK", async () => {
    const r = await fetch(a.url("metrics", "/health"));
    expect(r.status).toBe(200);
    expect(await r.text()).toBe("OK\n");
  });
});
