/** The dashboard page (GET /) and its public history endpoint (GET /consciousness/history). */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { fromPrometheus, parseMinutes } from "../../workers/cell/dashboard/history";

const get = (path: string, init?: RequestInit) => SELF.fetch(`http://cell.test${path}`, init);

describe("GET / (dashboard)", () => {
  it("is a public HTML page with a strict, nonce-based Content-Security-Policy", async () => {
    const res = await get("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html; charset=utf-8/);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
    expect(nonce).toMatch(/^[A-Za-z0-9+/]{24}$/); // 18 random bytes
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/i);
    // Every inline script and style carries this response's nonce; nothing else runs.
    const tags = [...html.matchAll(/<(script|style)\b([^>]*)>/gi)];
    expect(tags.length).toBeGreaterThanOrEqual(2);
    for (const t of tags) expect(t[2]).toContain(`nonce="${nonce}"`);
    // No inline event handlers or style attributes (the CSP would block them).
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/\sstyle\s*=/i);
  });

  it("loads nothing from another origin: no http(s) URL in any src, href or url()", async () => {
    const html = await (await get("/")).text();
    expect(html).not.toMatch(/\b(?:src|href|action|xlink:href)\s*=\s*["']?\s*(?:https?:)?\/\//i);
    expect(html).not.toMatch(/url\(\s*["']?\s*(?:https?:)?\/\//i);
    expect(html).not.toMatch(/@import/i);
    // The only absolute URL in the document is the SVG namespace name the script creates elements in.
    const urls = [...html.matchAll(/https?:\/\/[^\s"'`)<>]+/gi)].map((m) => m[0]);
    expect(new Set(urls)).toEqual(new Set(["http://www.w3.org/2000/svg"]));
  });

  it("uses a fresh nonce per response", async () => {
    const [a, b] = await Promise.all([get("/"), get("/")]);
    expect(a.headers.get("content-security-policy")).not.toBe(b.headers.get("content-security-policy"));
  });

  it("answers a JSON 405 for other methods", async () => {
    const res = await get("/", { method: "POST", body: "{}" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toContain("GET");
  });
});

describe("GET /consciousness/history", () => {
  type History = {
    cell_id: string;
    minutes: number;
    source: string;
    points: { t: string; level: number; awareness: number; adaptation: number; coherence: number; momentum: number }[];
  };

  it("is public and answers the cell's own history, with the current level in it", async () => {
    const res = await get("/consciousness/history?minutes=60");
    expect(res.status).toBe(200);
    const body = await res.json<History>();
    expect(body).toMatchObject({ cell_id: "unit-cell", minutes: 60, source: "local" });
    expect(body.points.length).toBeGreaterThanOrEqual(1);
    const last = body.points[body.points.length - 1]!;
    expect(last.t).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // A lone cell: awareness, adaptation and coherence are whole, and the level is 0.85 + 0.15 x momentum.
    expect(last).toMatchObject({ awareness: 1, adaptation: 1, coherence: 1 });
    expect(last.momentum).toBeGreaterThanOrEqual(0);
    expect(last.momentum).toBeLessThanOrEqual(1);
    expect(last.level).toBeCloseTo(0.85 + 0.15 * last.momentum, 2);
    expect(Date.now() - Date.parse(last.t)).toBeLessThan(60_000);
  });

  it("defaults to 60 minutes and samples at most once per 10 s", async () => {
    const a = await (await get("/consciousness/history")).json<History>();
    const b = await (await get("/consciousness/history")).json<History>();
    expect(a.minutes).toBe(60);
    expect(b.points.length).toBe(a.points.length);
  });

  it.each([["abc"], [""], ["0"], ["-5"], ["1441"], ["1.5"], ["1e3"], ["60abc"], ["99999999999"]])(
    "refuses minutes=%j with a JSON 400",
    async (m) => {
      const res = await get(`/consciousness/history?minutes=${encodeURIComponent(m)}`);
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toMatch(/application\/json/);
      const body = await res.json<{ error: string }>();
      expect(body.error).toMatch(/minutes must be a whole number from 1 to 1440/);
    },
  );

  it("accepts the edges 1 and 1440", async () => {
    expect((await get("/consciousness/history?minutes=1")).status).toBe(200);
    expect((await get("/consciousness/history?minutes=1440")).status).toBe(200);
    expect(parseMinutes(null)).toBe(60);
    expect(parseMinutes(" 30 ")).toBe(30);
  });
});

describe("history from Prometheus", () => {
  it("merges aios_consciousness_level and aios_consciousness_primitive by timestamp", async () => {
    const queries: string[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (input: RequestInfo | URL) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const q = url.searchParams.get("query") ?? "";
      queries.push(q);
      const result = q.startsWith("aios_consciousness_level")
        ? [
            {
              metric: { cell_id: "c1" },
              values: [
                [1000, "0.85"],
                [1015, "0.9"],
              ],
            },
          ]
        : ["awareness", "adaptation", "coherence", "momentum"].map((p, i) => ({
            metric: { cell_id: "c1", primitive: p },
            values: [[1015, String(i / 10)]],
          }));
      return Response.json({ status: "success", data: { resultType: "matrix", result } });
    }) as typeof fetch;
    try {
      const points = await fromPrometheus("http://prom.test:9090/", "c1", 60, 1_020_000);
      expect(queries).toEqual(['aios_consciousness_level{cell_id="c1"}', 'aios_consciousness_primitive{cell_id="c1"}']);
      expect(points).toEqual([
        { t: new Date(1_000_000).toISOString(), level: 0.85, awareness: null, adaptation: null, coherence: null, momentum: null },
        { t: new Date(1_015_000).toISOString(), level: 0.9, awareness: 0, adaptation: 0.1, coherence: 0.2, momentum: 0.3 },
      ]);
    } finally {
      globalThis.fetch = realFetch;
    }
  });
});
