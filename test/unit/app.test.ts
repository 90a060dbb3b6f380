/**
 * The shared HTTP shell (lib/app.ts): one route table per worker, each route with who may call it.
 * Exact paths win over patterns whatever the order they were written in, and the shell enforces
 * every route's access before its handler runs.
 */
import { describe, expect, it } from "vitest";
import { createApp, type PeerCall } from "../../lib/app";
import { HttpError } from "../../lib/errors";
import { json } from "../../lib/http";

const ctx = { waitUntil: () => undefined, passThroughOnException: () => undefined } as unknown as ExecutionContext;
const env = {};

const app = createApp<Record<string, never>>("test", {
  guards: {
    token: () => "secret",
    peer: async (request): Promise<PeerCall> => {
      if (request.headers.get("signature") !== "good") throw new HttpError(401, "signature refused: bad");
      return { cell: "peer-a", body: await request.text() };
    },
  },
})
  .get("/items/:id", "public", (req) => json({ by: "param", id: req.params["id"] }))
  // Written after the pattern that also matches it, and still taken: an exact path wins.
  .get("/items/special", "public", () => json({ by: "exact" }))
  .get("/static", "public", (req, _env, _ctx, rc) => json({ by: "static", params: req.params ?? "none", id: rc.requestId }))
  .get("/docs/:op", "public", (req) => json({ by: "op", op: req.params["op"] }))
  .get("/docs/export", "public", () => json({ by: "export" }))
  .post("/static", "public", () => json({ by: "post" }))
  .get("/private", "token", () => json({ by: "private" }))
  .post("/from-peer", "peer", (_req, _env, _ctx, rc) => json({ from: rc.signed.cell, body: rc.signed.body }))
  .post("/either", "peer-or-token", (_req, _env, _ctx, rc) => json({ from: rc.peer?.cell ?? "token" }))
  .get("/local", "local", () => json({ by: "local" }));

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

  it("prefers an exact path to a pattern whatever the order they were written in", async () => {
    expect((await call("/items/special")).body).toEqual({ by: "exact" });
    expect((await call("/items/7")).body).toEqual({ by: "param", id: "7" });
    expect((await call("/docs/export")).body).toEqual({ by: "export" });
    expect((await call("/docs/import")).body).toEqual({ by: "op", op: "import" });
  });

  it("takes a path with a trailing slash to its route", async () => {
    expect((await call("/static/")).body).toMatchObject({ by: "static" });
  });

  it("answers 405 naming the allowed methods, and 404 for unknown paths", async () => {
    const r = await call("/static", { method: "DELETE" });
    expect(r.status).toBe(405);
    expect(r.headers.get("allow")).toBe("GET, POST");
    expect((await call("/nowhere")).status).toBe(404);
  });

  it("refuses a table that routes one method and path twice", () => {
    const twice = () =>
      createApp("twice")
        .get("/a", "public", () => json({}))
        .get("/a", "token", () => json({}));
    expect(twice).toThrow(/GET \/a is routed twice/);
  });

  it("lists every route with its access, in the order written", () => {
    expect(app.routes().map((r) => `${r.method} ${r.path} ${r.access}`)).toContain("POST /from-peer peer");
    expect(app.routes()).toHaveLength(10);
  });
});

describe("the HTTP shell's access checks", () => {
  it("answers a token route only with the right token", async () => {
    expect((await call("/private")).status).toBe(401);
    expect((await call("/private", { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    expect((await call("/private", { headers: { authorization: "Bearer secret" } })).body).toEqual({ by: "private" });
  });

  it("answers a peer route only with a signature the worker accepts, and gives the handler the signer and body", async () => {
    expect((await call("/from-peer", { method: "POST", body: "{}" })).status).toBe(401);
    // A token is no signature.
    expect((await call("/from-peer", { method: "POST", body: "{}", headers: { authorization: "Bearer secret" } })).status).toBe(
      401,
    );
    expect((await call("/from-peer", { method: "POST", body: "x", headers: { signature: "bad" } })).status).toBe(401);
    const ok = await call("/from-peer", { method: "POST", body: "hello", headers: { signature: "good" } });
    expect(ok.body).toEqual({ from: "peer-a", body: "hello" });
  });

  it("checks a signed request to a peer-or-token route as a peer's, an unsigned one by its token", async () => {
    expect((await call("/either", { method: "POST", body: "{}" })).status).toBe(401);
    expect((await call("/either", { method: "POST", headers: { authorization: "Bearer secret" } })).body).toEqual({
      from: "token",
    });
    const forged = await call("/either", { method: "POST", headers: { authorization: "Bearer secret", signature: "bad" } });
    expect(forged.status).toBe(401);
    expect((await call("/either", { method: "POST", body: "{}", headers: { signature: "good" } })).body).toEqual({
      from: "peer-a",
    });
  });

  it("in a worker whose handlers verify (peerVerifiedByHandler), runs the cheap check first and gives the handler no caller", async () => {
    const deferred = createApp<Record<string, never>>("deferred", {
      guards: {
        peerVerifiedByHandler: (request) => {
          if (!request.headers.get("x-aios-cell")) throw new HttpError(401, "no cell");
        },
      },
    }).post("/served", "peer", (_req, _env, _ctx, rc) => {
      // The handler would hand the request to a method that verifies it; it has no verified caller to read.
      expect(rc.peer).toBeUndefined();
      expect(() => rc.signed).toThrow(/did not verify/);
      return json({ served: true });
    });
    const post = (headers: Record<string, string>) =>
      deferred.fetch(new Request("http://relay.test/served", { method: "POST", body: "{}", headers }), env, ctx);
    expect((await post({})).status).toBe(401); // unsigned: the shell refuses it
    expect((await post({ signature: "any" })).status).toBe(401); // the cheap check
    const res = await post({ signature: "any", "x-aios-cell": "a" });
    expect(await res.json()).toEqual({ served: true });
  });

  it("refuses a local route in a worker that has no local guard", async () => {
    expect((await call("/local")).status).toBe(403);
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
