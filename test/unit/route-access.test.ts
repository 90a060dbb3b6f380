/**
 * Every route of every worker, walked from the route tables themselves: each one that is not public
 * refuses a request that carries no credentials, before its handler runs (the handlers here would
 * fail without their bindings, so a refusal can only come from the shell's access check). A route
 * added later is walked too, so it cannot forget its guard.
 */
import { describe, expect, it } from "vitest";
import type { App, BaseEnv } from "../../lib/app";
import { bridgeApp } from "../../workers/bridge/routes";
import { cellApp } from "../../workers/cell/routes";
import { discoveryApp } from "../../workers/discovery/routes";
import { metricsApp } from "../../workers/metrics/routes";
import { relayApp } from "../../workers/relay/routes";

const ctx = { waitUntil: () => undefined, passThroughOnException: () => undefined } as unknown as ExecutionContext;
const env = { AIOS_API_TOKEN: "route-walk-token", AIOS_CELL_ID: "route-walk", AIOS_LOG_LEVEL: "error" };

const WORKERS: [string, App<BaseEnv>][] = [
  ["cell", cellApp as unknown as App<BaseEnv>],
  ["discovery", discoveryApp as unknown as App<BaseEnv>],
  ["bridge", bridgeApp as unknown as App<BaseEnv>],
  ["metrics", metricsApp as unknown as App<BaseEnv>],
  ["relay", relayApp as unknown as App<BaseEnv>],
];

/** A concrete path for a route's pattern. */
const concrete = (path: string) => path.replace(/:[A-Za-z_]+/g, "some-value");

function bare(method: string, url: string, headers: Record<string, string> = {}): Request {
  const body = method === "GET" || method === "DELETE" ? undefined : "{}";
  return new Request(url, { method, headers: { "content-type": "application/json", ...headers }, body });
}

describe.each(WORKERS)("every %s route declares who may call it", (_name, app) => {
  const routes = app.routes();

  it("has routes, each with one of the known kinds of access", () => {
    expect(routes.length).toBeGreaterThan(1);
    for (const r of routes) expect(["public", "token", "peer", "peer-or-token", "admission", "local"]).toContain(r.access);
  });

  const guarded = routes.filter((r) => r.access !== "public" && r.access !== "local");
  it.each(guarded.map((r) => [`${r.method} ${r.path} (${r.access})`, r] as const))(
    "%s refuses a request without credentials",
    async (_label, route) => {
      const res = await app.fetch(bare(route.method, `http://127.0.0.1${concrete(route.path)}`), env as BaseEnv, ctx);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: string }).error).toMatch(/Authorization|signed|signature|prove/);
    },
  );

  it.each(guarded.filter((r) => r.access === "token").map((r) => [`${r.method} ${r.path}`, r] as const))(
    "%s refuses a wrong token",
    async (_label, route) => {
      const req = bare(route.method, `http://127.0.0.1${concrete(route.path)}`, { authorization: "Bearer not-the-token" });
      expect((await app.fetch(req, env as BaseEnv, ctx)).status).toBe(401);
    },
  );

  const local = routes.filter((r) => r.access === "local");
  it.each(local.map((r) => [`${r.method} ${r.path}`, r] as const))(
    "%s (local) refuses a host that is not loopback and a browser origin that is not VS Code's",
    async (_label, route) => {
      const foreignHost = bare(route.method, `http://evil.example${concrete(route.path)}`);
      expect((await app.fetch(foreignHost, env as BaseEnv, ctx)).status).toBe(403);
      const foreignOrigin = bare(route.method, `http://127.0.0.1:3001${concrete(route.path)}`, {
        origin: "https://evil.example",
      });
      expect((await app.fetch(foreignOrigin, env as BaseEnv, ctx)).status).toBe(403);
    },
  );
});

it("the bridge is the only worker with local routes, and all of its routes are local", () => {
  for (const [name, app] of WORKERS) {
    const kinds = new Set(app.routes().map((r) => r.access));
    if (name === "bridge") expect([...kinds]).toEqual(["local"]);
    else expect(kinds.has("local")).toBe(false);
  }
});
