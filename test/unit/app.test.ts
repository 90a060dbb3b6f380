/**
 * The shared HTTP shell (lib/app.ts): routes without parameters are found by
 * exact path, everything else by the router, with the router's precedence
 * (the first route registered wins) either way.
 */
import { describe, expect, it } from "vitest";
import { createApp } from "../../lib/app";
import { json } from "../../lib/http";

const ctx = { waitUntil: () => undefined, passThroughOnException: () => undefined } as unknown as ExecutionContext;
const env = {};

const app = createApp<Record<string, never>>("test")
  .get("/items/:id", (req) => json({ by: "param", id: req.params["id"] }))
  // Registered after the parameter route that also matches it: never reached, as with the router alone.
  .get("/items/special", () => json({ by: "shadowed" }))
  .get("/static", (req, _env, _ctx, rc) => json({ by: "static", params: req.params ?? "none", id: rc.requestId }))
  .get("/docs/export", () => json({ by: "export" }))
  .get("/docs/:op", (req) => json({ by: "op", op: req.params["op"] }))
  .post("/static", () => json({ by: "post" }));

const call = async (path: string, init?: RequestInit) => {
  const res = await app.fetch(new Request(`http://cell.test${path}`, init), env, ctx);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
};

describe("the HTTP shell's routing", () => {
  it("takes a route without parameters by exact path, without params (it has none) and with the request's id", async () => {
    const r = await call("/static?x=1", { headers: { "x-request-id": "abc-1" } });
    expect(r.body).toEqual({ by: "static", params: "none", id: "abc-1" });
    expect(r.headers.get("x-request-id")).toBe("abc-1");
    expect((await call("/static", { method: "POST" })).body).toEqual({ by: "post" });
  });

  it("keeps the router's precedence: the first route registered that matches wins", async () => {
    expect((await call("/items/special")).body).toEqual({ by: "param", id: "special" });
    expect((await call("/docs/export")).body).toEqual({ by: "export" });
    expect((await call("/docs/import")).body).toEqual({ by: "op", op: "import" });
  });

  it("leaves other spellings of a path to the router (a trailing slash still reaches the route)", async () => {
    expect((await call("/static/")).body).toMatchObject({ by: "static" });
  });

  it("answers 405 naming the allowed methods, and 404 for unknown paths", async () => {
    const r = await call("/static", { method: "DELETE" });
    expect(r.status).toBe(405);
    expect(r.headers.get("allow")).toBe("GET, POST");
    expect((await call("/nowhere")).status).toBe(404);
  });
});

describe("the HTTP shell's request ids", () => {
  it("answers with the id the caller chose, and ignores an invalid one", async () => {
    expect((await call("/docs/export", { headers: { "x-request-id": "trace-7" } })).headers.get("x-request-id")).toBe("trace-7");
    const bad = await call("/static", { headers: { "x-request-id": "has spaces" } });
    expect(bad.body["id"]).not.toBe("has spaces");
    expect(bad.headers.get("x-request-id")).toBeNull();
  });

  it("makes an id for every error answer, unique per request; a success nobody asked an id for carries none", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const r = await call("/nowhere");
      expect(r.status).toBe(404);
      ids.add(r.headers.get("x-request-id") ?? "");
    }
    expect(ids.size).toBe(5);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{16}-[0-9a-z]+$/);
    expect((await call("/docs/export")).headers.get("x-request-id")).toBeNull();
  });

  it("answers every request with its id when every request is logged (AIOS_LOG_LEVEL=debug)", async () => {
    const res = await app.fetch(new Request("http://cell.test/docs/export"), { AIOS_LOG_LEVEL: "debug" } as never, ctx);
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f]{16}-/);
  });
});
