/**
 * The dashboard in a real browser: two stacks on 127.0.46.x, Debian's
 * chromium driven by playwright-core. Checks that the page shows the cell, its
 * level and its peer, updates live without a reload, unlocks the private
 * panels with the API token and searches the shared memory; saves a
 * screenshot to bench/out/dashboard.png.
 */
import { existsSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, TestStack, until } from "../../harness/stack";

const CHROMIUM = "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  console.warn(
    `\n!!! SKIPPING the dashboard browser test: ${CHROMIUM} is missing. ` +
      "`.ci/run` installs Debian's chromium (apt-get install chromium); install it to run this test. !!!\n",
  );
}

const TOKEN = "dash-token";
const ENV = { AIOS_CLUSTER_SECRET: "dash-secret", AIOS_API_TOKEN: TOKEN };
const PROM = { host: "127.0.46.3", port: 9090 };
const OUT = path.join(ROOT, "bench", "out");

/** The stand-in Prometheus's level series: one point a minute over the window. */
const PROM_POINTS = 60;
const promLevel = (i: number) => Math.round((0.86 + 0.08 * Math.sin(i / 7)) * 1e4) / 1e4;

/** A stand-in Prometheus: query_range answers for the queried cell, or a 503 while `failing`. */
function fakePrometheus(): { server: Server; queries: string[]; failing: { on: boolean } } {
  const queries: string[] = [];
  const failing = { on: false };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const q = url.searchParams.get("query") ?? "";
    queries.push(q);
    if (failing.on || url.pathname !== "/api/v1/query_range") {
      res.writeHead(503, { "content-type": "application/json" }).end('{"status":"error","error":"down for the test"}');
      return;
    }
    const cell = /cell_id="([^"]*)"/.exec(q)?.[1] ?? "";
    const end = Number(url.searchParams.get("end"));
    const ts = Array.from({ length: PROM_POINTS }, (_, i) => end - (PROM_POINTS - 1 - i) * 60);
    const prims: Record<string, (i: number) => number> = {
      awareness: () => 1,
      coherence: (i) => (i % 20 < 3 ? 0.5 : 1),
      adaptation: (i) => Math.round((0.8 + 0.15 * Math.cos(i / 5)) * 1e4) / 1e4,
      momentum: (i) => Math.round(0.4 * Math.exp(-i / 30) * 1e4) / 1e4,
    };
    const result = q.startsWith("aios_consciousness_level")
      ? [{ metric: { cell_id: cell }, values: ts.map((t, i) => [t, String(promLevel(i))]) }]
      : Object.entries(prims).map(([primitive, f]) => ({
          metric: { cell_id: cell, primitive },
          values: ts.map((t, i) => [t, String(f(i))]),
        }));
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ status: "success", data: { resultType: "matrix", result } }));
  });
  return { server, queries, failing };
}

function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

describe.skipIf(!HAVE_CHROMIUM)("dashboard (GET /) in a real browser", () => {
  let a: TestStack, b: TestStack;
  let browser: Browser | undefined;
  let page: Page;
  const problems: string[] = [];

  const text = async (selector: string) => ((await page.locator(selector).first().textContent({ timeout: 5000 })) ?? "").trim();
  const post = (s: TestStack, p: string, body: unknown) => s.api(p, { method: "POST", body: JSON.stringify(body) });

  beforeAll(async () => {
    [a, b] = await Promise.all([
      TestStack.start({ ip: "127.0.46.1", cellId: "da", env: { ...ENV, AIOS_NETWORK_PEERS: "127.0.46.2" } }),
      TestStack.start({ ip: "127.0.46.2", cellId: "db", env: ENV }),
    ]);
    await until(async () => {
      const peers = await a.json<{ peers: { cell_id: string; status: string; sync: unknown }[] }>("cell", "/peers");
      return peers.peers.some((p) => p.cell_id === "db" && p.status === "alive" && p.sync);
    }, 30_000);
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1360, height: 1000 }, colorScheme: "light" });
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
    page.on("request", (r) => {
      if (!r.url().startsWith(a.url("cell")) && !r.url().startsWith("data:")) problems.push(`foreign request: ${r.url()}`);
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await Promise.all([a, b].map((s) => s?.stop()));
  });

  it("shows the cell id, the level and the peer (alive, with sync state)", async () => {
    const res = await page.goto(a.url("cell", "/"));
    expect(res?.status()).toBe(200);
    expect(res?.headers()["content-security-policy"]).toContain("default-src 'self'");
    await until(async () => (await text("#cell-id")) === "da", 10_000);
    expect(await page.title()).toContain("da");
    await until(async () => /^(0\.\d{3}|1\.000)$/.test(await text("#level")), 10_000);
    expect(await text("#status")).toBe("healthy");
    expect(await text("#version")).toMatch(/\d+\.\d+\.\d+/);
    const row = '#peers tr[data-peer="db"]';
    await until(async () => (await text(`${row} .status`)) === "alive", 10_000);
    expect(await text(`${row} .rtt`)).toMatch(/ms$/);
    expect(await page.locator("#peers-empty").isVisible()).toBe(false);
    await until(async () => (await text(`${row} .in-sync`)) === "in sync", 15_000);
    // Primitives and the chart are drawn.
    for (const p of ["awareness", "coherence", "adaptation", "momentum"])
      expect(await text(`#prim-${p} .prim-val`)).toMatch(/^\d\.\d{3}/);
    await until(async () => (await page.locator("#chart path").count()) >= 2, 10_000);
    expect(await text("#chart-source")).toMatch(/own history/);
    expect(await page.locator("#messages .locked").count()).toBe(1);
    expect(await page.locator("#embed .locked").count()).toBe(1);
  });

  it("updates live without a reload when the stacks are written to", async () => {
    const row = '#peers tr[data-peer="db"]';
    const num = (s: string) => Number(s.replace(/[^\d]/g, ""));
    const receivedBefore = num(await text(`${row} .rows-received`));
    const writesBefore = num(await text("#recent-writes"));
    const marker = await page.evaluate(() => {
      (window as unknown as { __marker: number }).__marker = 42;
      return 42;
    });
    const r = await post(b, "/memory/create_entities", {
      namespace: "dash",
      entities: [
        { name: "LaptopBattery", entityType: "hardware", observations: ["swelling noticed in March", "replaced under warranty"] },
        { name: "BuildServer", entityType: "machine", observations: ["runs the nightly battery tests"] },
      ],
    });
    expect(r.status).toBe(200);
    await until(async () => num(await text(`${row} .rows-received`)) > receivedBefore, 15_000, 250);
    await until(async () => num(await text("#recent-writes")) > writesBefore, 15_000, 250);
    // Same document: nothing reloaded it.
    expect(await page.evaluate(() => (window as unknown as { __marker?: number }).__marker)).toBe(marker);
  });

  it("asks for the API token: a wrong one gets a clear 401 message, the right one unlocks messages and contexts", async () => {
    await page.fill("#token", "not-the-token");
    await page.click("#unlock");
    await until(async () => /401/.test(await text("#token-error")), 5000);
    expect(await page.locator("#messages .locked").count()).toBe(1);
    await page.waitForTimeout(300);
    problems.splice(0); // the refused request is logged as a console error by the browser: expected here

    await page.fill("#token", TOKEN);
    await page.click("#unlock");
    await until(async () => page.locator("#unlocked").isVisible(), 5000);
    expect(await page.locator("#token-error").isVisible()).toBe(false);
    expect(await page.evaluate(() => sessionStorage.getItem("aios-api-token"))).toBe(TOKEN);

    await post(b, "/message", { content: "nightly build is green on db", type: "status", priority: "high" });
    await b.api("/context", {
      method: "PUT",
      body: JSON.stringify({
        workspace: "aios",
        file: "workers/cell/dashboard/page.ts",
        language: "typescript",
        note: "polishing the dashboard",
      }),
    });
    await a.api("/context", { method: "PUT", body: JSON.stringify({ workspace: "aios", file: "README.md", note: "docs" }) });
    await until(async () => (await text("#messages")).includes("nightly build is green on db"), 15_000, 250);
    await until(async () => (await text("#contexts")).includes("polishing the dashboard"), 15_000, 250);
    expect(await text("#contexts")).toContain("README.md");
    // The embedding backlog's panel: these stacks run without an embedder, and say so.
    await until(async () => (await text("#embed-summary")) === "off", 10_000, 250);
    expect(await text("#embed")).toContain("AIOS_EMBED=off");
  });

  it("searches the shared memory for an entity created through the API (on the other stack)", async () => {
    await until(async () => (await page.locator('#search-ns option[value="dash"]').count()) === 1, 15_000, 250);
    await page.selectOption("#search-ns", "dash");
    await page.fill("#search-q", "battery");
    await page.click("#search-go");
    await until(async () => (await page.locator('#search-results [data-entity="LaptopBattery"]').count()) === 1, 5000);
    expect(await page.locator('#search-results [data-entity="BuildServer"]').count()).toBe(1);
    expect(await text("#search-summary")).toMatch(/^2 entities/);
    expect(await page.locator("#search-results mark").count()).toBeGreaterThanOrEqual(2);
  });

  it("has no console errors, no CSP violations and no request to another origin; saves a screenshot", async () => {
    // Let the chart gather a few samples, then picture the page as a person sees it.
    await page.waitForTimeout(2500);
    expect(problems).toEqual([]);
    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: path.join(OUT, "dashboard.png"), fullPage: true });
    await page.emulateMedia({ colorScheme: "dark" });
    await page.waitForTimeout(2500);
    await page.screenshot({ path: path.join(OUT, "dashboard-dark.png"), fullPage: true });
    expect(existsSync(path.join(OUT, "dashboard.png"))).toBe(true);
  });
});

describe("a lone stack with AIOS_PROMETHEUS_ADDR: history from Prometheus, fallback, bad input, 0 peers", () => {
  let s: TestStack;
  const prom = fakePrometheus();

  beforeAll(async () => {
    await new Promise<void>((resolve, reject) => {
      prom.server.once("error", reject);
      prom.server.listen(PROM.port, PROM.host, resolve);
    });
    s = await TestStack.start({
      ip: "127.0.46.4",
      cellId: "dc",
      env: { ...ENV, AIOS_PROMETHEUS_ADDR: `http://${PROM.host}:${PROM.port}` },
    });
  }, 60_000);

  afterAll(async () => {
    await s?.stop();
    await new Promise((r) => prom.server.close(r));
  });

  type H = {
    source: string;
    points: { t: string; level: number; momentum: number | null }[];
    prometheus_error?: string;
  };

  it("answers from Prometheus: this cell's level and primitives over the window", async () => {
    const h = await s.json<H>("cell", "/consciousness/history?minutes=60");
    expect(h.source).toBe("prometheus");
    expect(h.points).toHaveLength(PROM_POINTS);
    expect(h.points[0]!.level).toBeCloseTo(promLevel(0), 6);
    expect(h.points[PROM_POINTS - 1]!.level).toBeCloseTo(promLevel(PROM_POINTS - 1), 6);
    expect(h.points[0]!.momentum).toBe(0.4);
    expect(prom.queries).toEqual(
      expect.arrayContaining(['aios_consciousness_level{cell_id="dc"}', 'aios_consciousness_primitive{cell_id="dc"}']),
    );
  });

  it.skipIf(!HAVE_CHROMIUM)("renders with 0 peers, and charts the Prometheus history", async () => {
    const browser = await launch();
    try {
      const page = await browser.newPage({ viewport: { width: 430, height: 900 } });
      await page.goto(s.url("cell", "/"));
      await until(async () => page.locator("#peers-empty").isVisible(), 10_000);
      expect(await page.locator("#peers-empty").textContent()).toContain("No peers yet");
      expect(await page.locator("#peers-table").isVisible()).toBe(false);
      expect((await page.locator("#peers-summary").textContent())?.trim()).toBe("none known");
      await until(async () => /^\d\.\d{3}$/.test((await page.locator("#level").textContent()) ?? ""), 10_000);
      expect(await page.locator("#level-note").textContent()).toMatch(/lone cell/);
      await until(async () => /Prometheus/.test((await page.locator("#chart-source").textContent()) ?? ""), 20_000);
      await until(async () => (await page.locator("#chart path").count()) >= 5, 5000);
      mkdirSync(OUT, { recursive: true });
      await page.screenshot({ path: path.join(OUT, "dashboard-lone-narrow.png"), fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it("falls back to the cell's own history when Prometheus fails, and says why", async () => {
    prom.failing.on = true;
    const h = await s.json<H>("cell", "/consciousness/history?minutes=60");
    expect(h.source).toBe("local");
    expect(h.prometheus_error).toMatch(/503/);
    expect(h.points.length).toBeGreaterThanOrEqual(1);
  });

  it("refuses minutes that are not a whole number in 1..1440 with a JSON 400", async () => {
    for (const bad of ["abc", "0", "1441", "2.5", ""]) {
      const r = await fetch(s.url("cell", `/consciousness/history?minutes=${bad}`));
      expect(r.status, bad).toBe(400);
      expect(((await r.json()) as { error: string }).error).toMatch(/minutes/);
    }
  });
});
