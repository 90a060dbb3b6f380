/**
 * Two stacks that cannot find each other (mDNS off, no seeds) share their memory through a relay run
 * with `npm run relay`, on 127.0.70.x: the relay on .1, the stacks on .2 and .3, a stack with the
 * wrong secret on .4.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deriveRelayKey } from "../../lib/cluster-keys";
import { OFFER_HEADER, RELAY_TARGET, offerHeader } from "../../lib/relay-protocol";
import { admissionProof, generateKeyPair, signRequest } from "../../durable-objects/identity/signing";
import { TestRelay } from "../../harness/relay";
import { ROOT, TestStack, until, converged } from "../../harness/stack";

const SECRET = "relay-e2e-secret";
const RELAY_IP = "127.0.70.1";
const RELAY_URL = `http://${RELAY_IP}:8787`;
const ENV = { AIOS_CLUSTER_SECRET: SECRET, AIOS_API_TOKEN: "relay-token", AIOS_MDNS: "off", AIOS_RELAY: RELAY_URL };

type Graph = { entities: { name: string; entityType: string; observations: string[] }[] };
const graphOf = async (s: TestStack, ns: string) => (await (await s.api(`/memory/read_graph?namespace=${ns}`)).json()) as Graph;
const has = async (s: TestStack, ns: string, name: string) => (await graphOf(s, ns)).entities.some((e) => e.name === name);

interface RelayPeer {
  peer_id: string;
  last_success: string | null;
  last_error: string | null;
}
const relayState = async (s: TestStack) =>
  ((await (await s.api("/sync/state")).json()) as { peers: RelayPeer[] }).peers.find((p) => p.peer_id.startsWith("relay:"));

/** Every byte of every file under `dir`. */
function filesUnder(dir: string): Buffer[] {
  const out: Buffer[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(readFileSync(p));
  }
  return out;
}

/** Runs `node bin/aios.mjs <command>` with only the given AIOS_ variables; returns its exit code and output. */
function aios(command: string, env: Record<string, string>): { status: number | null; out: string } {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AIOS_")) clean[k] = v;
  const r = spawnSync(process.execPath, [path.join(ROOT, "bin", "aios.mjs"), command], {
    cwd: ROOT,
    env: { ...clean, ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("relay commands", () => {
  it("npm run relay-key prints the key derived from the cluster secret, and nothing of the secret", async () => {
    const r = aios("relay-key", { AIOS_CLUSTER_SECRET: SECRET });
    expect(r.status).toBe(0);
    expect(r.out.trim()).toBe(await deriveRelayKey(SECRET));
    expect(r.out).not.toContain(SECRET);
  });

  it("npm run relay without a key or a secret, or with a malformed key, stops naming the variable", () => {
    const none = aios("relay", {});
    expect(none.status).toBe(2);
    expect(none.out).toMatch(/AIOS_RELAY_KEY/);
    const bad = aios("relay", { AIOS_RELAY_KEY: "too-short" });
    expect(bad.status).toBe(2);
    expect(bad.out).toMatch(/AIOS_RELAY_KEY/);
  });
});

describe("sync through a relay", () => {
  let relay: TestRelay, a: TestStack, b: TestStack;
  beforeAll(async () => {
    relay = await TestRelay.start(RELAY_IP, { AIOS_CLUSTER_SECRET: SECRET });
    [a, b] = await Promise.all([
      TestStack.start({ ip: "127.0.70.2", cellId: "ra", env: ENV }),
      TestStack.start({ ip: "127.0.70.3", cellId: "rb", env: ENV }),
    ]);
    await until(async () => (await relayState(a))?.last_success && (await relayState(b))?.last_success, 20_000);
    await until(async () => (await relay.health()).connected === 2, 20_000);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await relay?.stop();
  });

  it("the stacks know nothing of each other: no peers, only the relay", async () => {
    for (const s of [a, b]) {
      const peers = await s.json<{ peers: unknown[] }>("discovery", "/peers");
      expect(peers.peers).toEqual([]);
    }
    const h = await relay.health();
    expect(h).toMatchObject({ status: "healthy", type: "relay", cells: 2, connected: 2 });
  });

  it("a write on one stack is on the other within a second", async () => {
    const t0 = performance.now();
    await a.memory("create_entities", {
      namespace: "relayproj",
      entities: [{ name: "Laptop", entityType: "machine", observations: ["works from the cafe"] }],
    });
    await until(() => has(b, "relayproj", "Laptop"), 5000, 20);
    expect(performance.now() - t0).toBeLessThan(1000);
    await a.api("/message", { method: "POST", body: JSON.stringify({ content: "hello via relay", type: "greeting" }) });
    await a.api("/context", { method: "PUT", body: JSON.stringify({ workspace: "relayproj", file: "cafe.ts" }) });
    await until(async () => ((await (await b.api("/messages?from_cell=ra")).json()) as { total: number }).total === 1, 5000, 50);
    await converged([a, b]);
  });

  it("concurrent writes on both sides converge, keeping every observation", async () => {
    await Promise.all(
      [a, b].map((s, i) =>
        s.memory("create_entities", {
          namespace: "relayproj",
          entities: [{ name: "Shared", entityType: `type-${i}`, observations: [`seen by ${s.opts.cellId}`] }],
        }),
      ),
    );
    await Promise.all(
      [a, b].map((s) =>
        s.memory("add_observations", {
          namespace: "relayproj",
          observations: [{ entityName: "Shared", contents: [`also ${s.opts.cellId}`] }],
        }),
      ),
    );
    await converged([a, b]);
    const shared = (await graphOf(b, "relayproj")).entities.find((e) => e.name === "Shared")!;
    expect(shared.observations.sort()).toEqual(["also ra", "also rb", "seen by ra", "seen by rb"]);
  });

  it("a delete on one side reaches the other and is not undone", async () => {
    await b.memory("create_entities", {
      namespace: "relayproj",
      entities: [{ name: "Doomed", entityType: "t", observations: [] }],
    });
    await until(() => has(a, "relayproj", "Doomed"), 5000, 20);
    await a.memory("delete_entities", { namespace: "relayproj", entityNames: ["Doomed"] });
    await converged([a, b]);
    expect(await has(b, "relayproj", "Doomed")).toBe(false);
  });

  it("the relay's stored data holds none of the content", async () => {
    await a.memory("create_entities", {
      namespace: "secretproject",
      entities: [{ name: "Zanzibar-Credentials", entityType: "vault-entry", observations: ["the password is hunter2-xyzzy"] }],
    });
    await converged([a, b]);
    expect((await relay.health()).rows).toBeGreaterThan(5);
    const blobs = filesUnder(path.join(relay.dir, "data", "relay"));
    expect(blobs.length).toBeGreaterThan(0);
    const stored = Buffer.concat(blobs);
    expect(stored.length).toBeGreaterThan(0);
    for (const plain of [
      "Zanzibar",
      "hunter2",
      "xyzzy",
      "secretproject",
      "vault-entry",
      "Laptop",
      "cafe",
      "relayproj",
      "hello via relay",
      "Shared",
      "seen by",
    ]) {
      expect(stored.includes(Buffer.from(plain)), `"${plain}" is in the relay's files`).toBe(false);
    }
  });

  it("with the relay stopped both sides write; when it is back nothing is lost", async () => {
    const dir = relay.dir;
    await relay.stop();
    await a.memory("create_entities", {
      namespace: "offline",
      entities: [{ name: "FromA", entityType: "note", observations: ["a"] }],
    });
    await b.memory("create_entities", {
      namespace: "offline",
      entities: [{ name: "FromB", entityType: "note", observations: ["b"] }],
    });
    relay = await TestRelay.start(RELAY_IP, { AIOS_CLUSTER_SECRET: SECRET }, dir);
    await until(async () => (await has(a, "offline", "FromB")) && (await has(b, "offline", "FromA")), 20_000, 100);
    await converged([a, b]);
    for (const s of [a, b]) expect((await graphOf(s, "relayproj")).entities.map((e) => e.name)).toContain("Laptop");
  });

  it("a cell with the wrong secret is refused and receives nothing", async () => {
    const c = await TestStack.start({ ip: "127.0.70.4", cellId: "rc", env: { ...ENV, AIOS_CLUSTER_SECRET: "wrong-secret" } });
    try {
      const refused = await until(async () => {
        const st = await relayState(c);
        return st?.last_error?.includes("401") && st;
      }, 20_000);
      expect(refused.last_success).toBeNull();
      expect((await graphOf(c, "relayproj")).entities).toEqual([]);
      expect((await relay.health()).cells).toBe(2);
    } finally {
      await c.stop();
    }
  });

  it("a cell that knows the relay key is admitted; replayed, stale, oversized and wrongly keyed pushes are refused", async () => {
    const pair = await generateKeyPair();
    const cell = "probe-cell";
    const push = async (opts: { key?: string; created?: number; body?: string; cellId?: string }) => {
      const created = Math.floor((opts.created ?? Date.now()) / 1000);
      const id = opts.cellId ?? cell;
      const proof = await admissionProof(opts.key ?? (await deriveRelayKey(SECRET)), id, pair.publicKey, created);
      const request = new Request(`${RELAY_URL}/relay/push`, {
        method: "POST",
        headers: { "content-type": "application/json", [OFFER_HEADER]: offerHeader(pair.publicKey, created, proof) },
        body: opts.body ?? JSON.stringify({ rows: [], vv: {}, complete: false }),
      });
      return signRequest(request, { keyId: id, privateKey: pair.privateKey }, { target: RELAY_TARGET, now: created * 1000 });
    };
    const before = await relay.health();
    const wrongKey = await fetch(await push({ key: await deriveRelayKey("not-the-secret"), cellId: "probe-wrong" }));
    expect(wrongKey.status).toBe(401);
    const stale = await fetch(await push({ created: Date.now() - 10 * 60_000, cellId: "probe-stale" }));
    expect(stale.status).toBe(401);
    const ok = await push({});
    const replay = ok.clone();
    expect((await fetch(ok)).status).toBe(200);
    const replayed = await fetch(replay);
    expect(replayed.status).toBe(401);
    expect(await replayed.text()).toMatch(/replay/);
    const huge = await fetch(
      await push({ body: JSON.stringify({ rows: [], vv: {}, complete: false, pad: "x".repeat(3 * 1024 * 1024) }) }),
    );
    expect(huge.status).toBe(413);
    const bad = await fetch(await push({ body: JSON.stringify({ rows: [{ k: "short" }], vv: {}, complete: false }) }));
    expect(bad.status).toBe(400);
    const speakingAsAnother = await fetch(await push({ cellId: "ra" }));
    expect(speakingAsAnother.status).toBe(401);
    const after = await relay.health();
    expect(after.rows).toBe(before.rows);
    expect(after.cells).toBe((before.cells as number) + 1);
  });

  it("unsigned, forged and replayed requests are refused and change nothing", async () => {
    const before = await relay.health();
    const unsigned = await fetch(`${RELAY_URL}/relay/pull`, { method: "POST", body: JSON.stringify({ vv: {} }) });
    expect(unsigned.status).toBe(401);
    const forged = await fetch(`${RELAY_URL}/relay/push`, {
      method: "POST",
      headers: { "x-aios-cell": "ra", "signature-input": 'aios=("@method");created=1', signature: "aios=:AAAA:" },
      body: JSON.stringify({ rows: [], vv: {}, complete: true }),
    });
    expect(forged.status).toBeGreaterThanOrEqual(400);
    expect(forged.status).toBeLessThan(500);
    const after = await relay.health();
    expect(after.rows).toBe(before.rows);
    expect(after.cells).toBe(before.cells);
  });

  // Last: the claim it makes stays in the relay's vector.
  it("a relay-key holder claiming rows it does not hold cannot raise a cell's vector or its own sequence numbers", async () => {
    const pair = await generateKeyPair();
    const id = "probe-claims";
    const created = Math.floor(Date.now() / 1000);
    const proof = await admissionProof(await deriveRelayKey(SECRET), id, pair.publicKey, created);
    const claim = { ra: 1e12, ghost: 1e12 };
    const request = new Request(`${RELAY_URL}/relay/push`, {
      method: "POST",
      headers: { "content-type": "application/json", [OFFER_HEADER]: offerHeader(pair.publicKey, created, proof) },
      body: JSON.stringify({ rows: [], vv: claim, complete: true }),
    });
    const pushed = await fetch(await signRequest(request, { keyId: id, privateKey: pair.privateKey }, { target: RELAY_TARGET }));
    expect(pushed.status).toBe(200);
    // A write on ra makes it sync with the relay, which now claims all of the above.
    const since = Date.now();
    await a.memory("create_entities", { entities: [{ name: "AfterClaim", entityType: "note", observations: [] }] });
    await until(async () => Date.parse((await relayState(a))?.last_success ?? "0") > since, 10_000);
    const { vv } = (await (await a.api("/sync/state")).json()) as { vv: Record<string, number> };
    expect(vv.ra).toBeGreaterThan(0);
    expect(vv.ra).toBeLessThan(1e6);
    expect(vv.ghost ?? 0).toBe(0);
  });
});
