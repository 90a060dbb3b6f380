/**
 * The Prometheus files users load (prometheus/): the alert rules pass
 * `promtool check rules` without warnings and their unit tests
 * (`promtool test rules`), the example config passes `promtool check config`,
 * and the Grafana dashboard only queries metrics the stack exports.
 *
 * promtool comes with Prometheus (Debian/Ubuntu: `apt-get install prometheus`);
 * CI installs it. Without it the promtool tests are skipped with a warning;
 * the dashboard checks always run.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const DIR = path.join(ROOT, "prometheus");

/** The metrics the stack exports on :9091/metrics (see workers/metrics), and `up` from Prometheus. */
const EXPORTED = [
  "aios_build_info",
  "aios_uptime_seconds",
  "aios_cell_up",
  "aios_discovery_up",
  "aios_consciousness_level",
  "aios_consciousness_primitive",
  "aios_peers",
  "aios_peer_up",
  "aios_peer_rtt_seconds",
  "aios_sync_rounds_total",
  "aios_sync_rows_total",
  "aios_sync_bytes_total",
  "aios_sync_lag_seconds",
  "aios_graph_entities",
  "aios_graph_observations",
  "aios_http_requests_total",
  "aios_http_request_duration_seconds",
  "aios_runtime_restarts_total",
];
const HISTOGRAMS = ["aios_http_request_duration_seconds"];
const ALLOWED = new Set([...EXPORTED, ...HISTOGRAMS.flatMap((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`]), "up"]);
const ALERTS = ["AiosCellDown", "AiosPeerDead", "AiosSyncLagHigh", "AiosConsciousnessLow", "AiosHighErrorRate"];

const PROMQL_KEYWORDS = new Set(["and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool"]);
const PROMQL_KEYWORDS_RE = "offset|atan2|inf|nan";

/** Metric names a PromQL expression selects (Grafana variables allowed). */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // string literals
    .replace(/\$\{[^}]*\}|\$\w+/g, " ") // Grafana variables: $__rate_interval, ${cell_id}
    .replace(/\{[^}]*\}/g, " ") // label matchers
    .replace(/\[[^\]]*\]/g, " ") // range and subquery durations
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ") // label lists
    .replace(new RegExp(`\\b(?:${PROMQL_KEYWORDS_RE})\\b`, "gi"), " ");
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w.:])([a-zA-Z_:][\w:]*)(?![\w:])(\s*\()?/g)) {
    const [, name, call] = m;
    if (name === undefined || call !== undefined || PROMQL_KEYWORDS.has(name)) continue; // functions, aggregations, operators
    if (/^\d/.test(name)) continue;
    names.add(name);
  }
  return [...names].sort();
}

// ---------------------------------------------------------------- promtool

function findPromtool(): boolean {
  const r = spawnSync("promtool", ["--version"], { encoding: "utf8" });
  return r.error === undefined && r.status === 0;
}
const hasPromtool = findPromtool();
if (!hasPromtool) {
  console.warn(
    "\n*** promtool NOT FOUND: SKIPPING the promtool checks of prometheus/alerts.yml, alerts.test.yml, prometheus.yml\n" +
      "*** and the dashboard's PromQL. `apt-get install prometheus` (Debian/Ubuntu) provides /usr/bin/promtool;\n" +
      "*** so do the release archives at https://prometheus.io/download/. CI installs it, so these checks run there.\n",
  );
}

function promtool(...args: string[]): { code: number | null; output: string } {
  const r = spawnSync("promtool", args, { cwd: ROOT, encoding: "utf8", timeout: 30_000 });
  if (r.error) throw r.error;
  const output = `${r.stdout}${r.stderr}`;
  return { code: r.status, output };
}

describe.skipIf(!hasPromtool)("promtool", () => {
  it("check rules: alerts.yml is valid, lint-clean and has the five alerts", () => {
    const { code, output } = promtool("check", "rules", "prometheus/alerts.yml");
    expect(output).toMatch(/SUCCESS: 5 rules found/);
    expect(output).not.toMatch(/warn|error|fail/i);
    expect(code, output).toBe(0);
    const rules = readFileSync(path.join(DIR, "alerts.yml"), "utf8");
    expect(rules).toMatch(/^ {2}- name: aios$/m);
    for (const alert of ALERTS) expect(rules).toMatch(new RegExp(`^ +- alert: ${alert}$`, "m"));
  });

  it("test rules: every alert fires when it should and stays silent when healthy", () => {
    const { code, output } = promtool("test", "rules", "prometheus/alerts.test.yml");
    expect(output).toMatch(/SUCCESS/);
    expect(output).not.toMatch(/FAILED/);
    expect(code, output).toBe(0);
    // Each alert has at least one case where it fires and one where it must not.
    const tests = readFileSync(path.join(DIR, "alerts.test.yml"), "utf8");
    const cases = tests.split(/\n(?= +- eval_time:)/).slice(1);
    for (const alert of ALERTS) {
      const mine = cases.filter((c) => new RegExp(`alertname: ${alert}\\b`).test(c));
      expect(mine.filter((c) => /exp_alerts: \[\]/.test(c)).length, `${alert}: silent case`).toBeGreaterThan(0);
      expect(mine.filter((c) => /exp_labels:/.test(c)).length, `${alert}: firing case`).toBeGreaterThan(0);
    }
  });

  it("check config: the example prometheus.yml is valid and loads alerts.yml", () => {
    const { code, output } = promtool("check", "config", "prometheus/prometheus.yml");
    expect(output).toMatch(/SUCCESS: 1 rule files found/);
    expect(output).toMatch(/SUCCESS: 5 rules found/);
    expect(output).not.toMatch(/warn|error|fail/i);
    expect(code, output).toBe(0);
  });

  it("every dashboard expression is valid PromQL", () => {
    // promtool parses every expression of a rule file; feed it the panels' queries as recording rules.
    const rules = dashboardExpressions().map((e, i) => ({
      record: `aios_dashboard:query_${i}`,
      expr: e.expr
        .replaceAll("$__rate_interval", "1m")
        .replaceAll("$__range", "1h")
        .replaceAll("$__interval", "15s")
        .replaceAll(/\$\{?cell_id\}?/g, ".*"),
    }));
    const dir = mkdtempSync(path.join(os.tmpdir(), "aios-dashboard-rules-"));
    try {
      const file = path.join(dir, "dashboard-rules.yml");
      writeFileSync(file, JSON.stringify({ groups: [{ name: "dashboard", rules }] })); // JSON is YAML
      const { code, output } = promtool("check", "rules", file);
      expect(output).toMatch(new RegExp(`SUCCESS: ${rules.length} rules found`));
      expect(code, output).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------- Grafana

interface Target {
  expr?: string;
  refId?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id?: number;
  type?: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  __inputs?: { name?: string; type?: string; pluginId?: string }[];
  schemaVersion?: number;
  uid?: string;
  title?: string;
  panels?: Panel[];
  templating?: { list?: { name?: string; query?: string | { query?: string }; definition?: string }[] };
}

function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(path.join(DIR, "grafana-dashboard.json"), "utf8")) as Dashboard;
}

function allPanels(panels: Panel[] = []): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels)]);
}

/** Every PromQL expression of the dashboard: panel targets and template variable queries. */
function dashboardExpressions(): { where: string; expr: string }[] {
  const d = loadDashboard();
  const out: { where: string; expr: string }[] = [];
  for (const p of allPanels(d.panels)) {
    for (const t of p.targets ?? []) {
      if (t.expr !== undefined) out.push({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr });
    }
  }
  return out;
}

describe("Grafana dashboard", () => {
  it("the metric-name extractor sees through functions, labels, ranges and variables", () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (job, le) (rate(foo_bucket{cell_id=~"$cell_id", x="a{b}"}[$__rate_interval]))) ' +
          "* on (job, instance) group_left (cell_id) bar_info > bool 1e3 or vector(0) offset 5m",
      ),
    ).toEqual(["bar_info", "foo_bucket"]);
    expect(metricNames("aios_up{job='x'} / ignoring (peer) aios_nope unless up")).toEqual(["aios_nope", "aios_up", "up"]);
  });

  it("is valid JSON with the DS_PROMETHEUS input, a cell_id variable and unique panel ids", () => {
    const d = loadDashboard();
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(d.uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
    expect(d.__inputs).toContainEqual(
      expect.objectContaining({ name: "DS_PROMETHEUS", type: "datasource", pluginId: "prometheus" }),
    );
    const cell = d.templating?.list?.find((v) => v.name === "cell_id");
    expect(cell).toMatchObject({ name: "cell_id", type: "query" });
    const q = typeof cell?.query === "string" ? cell.query : cell?.query?.query;
    expect(q).toBe("label_values(aios_build_info, cell_id)");

    const panels = allPanels(d.panels);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels.filter((p) => p.type !== "row")) {
      expect(p.datasource?.uid, `panel "${p.title}"`).toBe("${DS_PROMETHEUS}");
      expect(p.targets?.length, `panel "${p.title}" has queries`).toBeGreaterThan(0);
      for (const t of p.targets ?? []) expect(t.datasource?.uid, `panel "${p.title}" ${t.refId}`).toBe("${DS_PROMETHEUS}");
    }
  });

  it("panel expressions only use metrics the stack exports (or up)", () => {
    const exprs = dashboardExpressions();
    expect(exprs.length).toBeGreaterThan(10);
    const unknown = exprs.flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((n) => !ALLOWED.has(n))
        .map((n) => `${where}: ${n}`),
    );
    expect(unknown).toEqual([]);
  });

  it("shows every exported metric somewhere", () => {
    const used = new Set(dashboardExpressions().flatMap(({ expr }) => metricNames(expr)));
    const missing = EXPORTED.filter((m) => !used.has(m) && !["_bucket", "_sum", "_count"].some((s) => used.has(m + s)));
    expect(missing).toEqual([]);
  });

  it("panels that filter by cell use the $cell_id variable", () => {
    for (const { where, expr } of dashboardExpressions()) expect(expr, where).toMatch(/cell_id=~"\$cell_id"/);
  });
});
