/**
 * Discovery's HTTP routes (:8001), served in this isolate by its app with a registry and an
 * identity of their own, so the peers registered here never reach the cell that other tests measure.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { CellBinding, CellInfo, Peer } from "../../lib/rpc";
import { discoveryApp, type DiscoveryEnv } from "../../workers/discovery/routes";
import { TOKEN } from "./helpers";

const cellInfo: CellInfo = {
  cell_id: "unit-cell",
  branch: "main",
  consciousness_level: 0.9,
  hostname: "unit-host",
  version: "0.0.0",
};

/** Discovery's bindings; `cell` stands in for the cell worker (absent: the cell does not answer). */
function discoveryEnv(cell?: Partial<CellBinding>): DiscoveryEnv {
  return {
    ...env,
    PEERS: env.TEST_PEERS,
    IDENTITY: env.TEST_IDENTITY,
    CELL: cell as CellBinding | undefined,
  } as DiscoveryEnv;
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  { token = true, cell }: { token?: boolean; cell?: Partial<CellBinding> } = {},
): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await discoveryApp.fetch(
    new Request(`http://127.0.0.1:8001${path}`, {
      method,
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${TOKEN}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    discoveryEnv(cell),
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

const peers = async () => (await call("GET", "/peers")).json<{ peers: Peer[]; count: number; my_host: string }>();
const fresh = (what: string) => `${what}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
/** An address where nothing listens: a registered peer there is probed and fails. */
const NOWHERE = { ip: "127.0.0.1", port: 9 };

describe("discovery /health", () => {
  it("is public; healthy with the cell's level when the cell answers, degraded without it", async () => {
    const up = await call("GET", "/health", undefined, { token: false, cell: { info: async () => cellInfo } });
    expect(up.status).toBe(200);
    const body = await up.json<Record<string, unknown>>();
    expect(body).toMatchObject({ status: "healthy", cell_id: "unit-cell", type: "discovery", consciousness_level: 0.9 });
    expect(body["services"]).toEqual(expect.arrayContaining(["registry", "health-check", "gossip", "scan"]));
    expect(body["peers_count"]).toBe((await peers()).count);

    const down = await (await call("GET", "/health", undefined, { token: false })).json<Record<string, unknown>>();
    expect(down).toMatchObject({ status: "degraded", consciousness_level: null });
  });
});

describe("registration by hand", () => {
  it("needs the token; then the peer is listed alive with the legacy fields, and unregistering removes it", async () => {
    const id = fresh("nas");
    const reg = { cell_id: id, ...NOWHERE, services: ["backup"], consciousness_level: 0.4, hostname: "nas.local" };
    expect((await call("POST", "/register", reg, { token: false })).status).toBe(401);
    expect((await peers()).peers.map((p) => p.cell_id)).not.toContain(id);

    const res = await call("POST", "/register", reg);
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ status: "registered", cell_id: id });
    const listed = (await peers()).peers.find((p) => p.cell_id === id);
    expect(listed).toMatchObject({
      cell_id: id,
      ip: "127.0.0.1",
      port: 9,
      url: "http://127.0.0.1:9",
      status: "alive",
      source: "register",
      services: ["backup"],
      consciousness_level: 0.4,
      hostname: "nas.local",
      type: "cell",
    });
    expect(Date.parse(listed!.first_seen)).toBeGreaterThan(Date.now() - 60_000);

    expect((await call("DELETE", `/unregister/${id}`, undefined, { token: false })).status).toBe(401);
    const gone = await call("DELETE", `/unregister/${id}`);
    expect(gone.status).toBe(200);
    expect(await gone.json()).toEqual({ status: "unregistered", cell_id: id });
    expect((await peers()).peers.map((p) => p.cell_id)).not.toContain(id);
    expect((await call("DELETE", `/unregister/${id}`)).status).toBe(404);
  });

  it("answers at its aliases: POST /peers/register, POST /peers and DELETE /peers/:cell_id", async () => {
    const a = fresh("alias-a");
    const b = fresh("alias-b");
    expect((await call("POST", "/peers/register", { cell_id: a, ...NOWHERE })).status).toBe(201);
    expect((await call("POST", "/peers", { cell_id: b, ...NOWHERE })).status).toBe(201);
    expect((await peers()).peers.map((p) => p.cell_id)).toEqual(expect.arrayContaining([a, b]));
    expect((await call("DELETE", `/peers/${a}`)).status).toBe(200);
    expect((await call("DELETE", `/peers/${b}`)).status).toBe(200);
    const left = (await peers()).peers.map((p) => p.cell_id);
    expect(left).not.toContain(a);
    expect(left).not.toContain(b);
  });

  it("refuses this cell's own id, bad fields (named) and a second key for a pinned id", async () => {
    const own = await call("POST", "/register", { cell_id: "unit-cell", ...NOWHERE });
    expect(own.status).toBe(400);
    expect((await own.json<{ error: string }>()).error).toMatch(/own id/);
    const port = await call("POST", "/register", { cell_id: fresh("bad"), ip: "127.0.0.1", port: "eighty" });
    expect(port.status).toBe(400);
    expect((await port.json<{ error: string }>()).error).toMatch(/port/);

    const id = fresh("pinned");
    expect((await call("POST", "/register", { cell_id: id, ...NOWHERE, public_key: "a".repeat(43) })).status).toBe(201);
    const other = await call("POST", "/register", { cell_id: id, ...NOWHERE, public_key: "b".repeat(43) });
    expect(other.status).toBe(409);
    expect((await other.json<{ error: string }>()).error).toMatch(/pinned to another key/);
    // Unregistering forgets the key too: the id may come back with another.
    expect((await call("DELETE", `/unregister/${id}`)).status).toBe(200);
    expect((await call("POST", "/register", { cell_id: id, ...NOWHERE, public_key: "b".repeat(43) })).status).toBe(201);
    expect((await call("DELETE", `/unregister/${id}`)).status).toBe(200);
  });
});

describe("legacy heartbeat", () => {
  it("refreshes a registered peer and its level; an unknown one is a 404 that says to register", async () => {
    const id = fresh("beat");
    await call("POST", "/register", { cell_id: id, ...NOWHERE, consciousness_level: 0.2 });
    expect((await call("POST", "/heartbeat", { cell_id: id, consciousness_level: 0.7 }, { token: false })).status).toBe(401);
    const res = await call("POST", "/heartbeat", { cell_id: id, consciousness_level: 0.7 });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", cell_id: id, timestamp: expect.stringMatching(/Z$/) });
    expect((await peers()).peers.find((p) => p.cell_id === id)).toMatchObject({ status: "alive", consciousness_level: 0.7 });
    const unknown = await call("POST", "/heartbeat", { cell_id: fresh("never") });
    expect(unknown.status).toBe(404);
    expect((await unknown.json<{ error: string }>()).error).toMatch(/register it first/);
    await call("DELETE", `/unregister/${id}`);
  });
});

describe("scans and candidates", () => {
  it("a scan needs the token and valid ranges; GET /scan follows it to the end", async () => {
    expect((await call("POST", "/scan", { ranges: "127.0.0.250/32" }, { token: false })).status).toBe(401);
    const bad = await call("POST", "/scan", { ranges: "not-a-range" });
    expect(bad.status).toBe(400);
    expect((await call("POST", "/scan", {})).status).toBe(400); // no ranges, and AIOS_DISCOVERY_SCAN is not set

    const started = await call("POST", "/scan", { ranges: "127.0.0.250/32" });
    expect(started.status).toBe(202);
    const { scan } = await started.json<{ scan: { id: number; total: number; ranges: string } }>();
    expect(scan).toMatchObject({ total: 1, ranges: "127.0.0.250/32" });
    let status = { status: "running", scan: { id: 0, probed: 0, found: [] as unknown[] } };
    for (let i = 0; i < 50 && status.status !== "finished"; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      status = await (await call("GET", "/scan", undefined, { token: false })).json<typeof status>();
    }
    expect(status).toMatchObject({ status: "finished", scan: { id: scan.id, probed: 1, found: [] } });
  });

  it("POST /candidates queues a URL with the token, and refuses one that is not a URL", async () => {
    expect((await call("POST", "/candidates", { url: "http://127.0.0.1:9" }, { token: false })).status).toBe(401);
    const queued = await call("POST", "/candidates", { url: "http://127.0.0.1:9" });
    expect(queued.status).toBe(202);
    expect(await queued.json()).toEqual({ status: "queued", url: "http://127.0.0.1:9" });
    expect((await call("POST", "/candidates", { url: "not a url" })).status).toBe(400);
  });
});

describe("inter-cell routes", () => {
  it("a hello without a valid signature and proof is refused, and nothing is listed", async () => {
    const before = (await peers()).count;
    // Unsigned, the body is not even read.
    const bad = await call("POST", "/peers/hello", { nonsense: true }, { token: false });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error: string }).error).toMatch(/must be signed and prove the cluster secret/);
    const hello = {
      offer: { cell_id: "intruder", public_key: "a".repeat(43), created: Math.floor(Date.now() / 1000), proof: null },
      info: {
        cell_id: "intruder",
        cell_url: "http://127.0.0.1:9",
        discovery_url: "http://127.0.0.1:10",
        services: [],
        type: "cell",
        consciousness_level: null,
      },
      known: [],
    };
    const unsigned = await call("POST", "/peers/hello", hello, { token: false });
    expect(unsigned.status).toBe(401);
    expect((await peers()).count).toBe(before);
  });

  it("unknown paths are a JSON 404 and wrong methods a JSON 405 naming the allowed ones", async () => {
    const missing = await call("GET", "/nowhere");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toHaveProperty("error");
    const wrong = await call("PUT", "/peers");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toMatch(/GET/);
  });
});
