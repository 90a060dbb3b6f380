/**
 * Two stacks that cannot find each other (mDNS off, no seeds) share their memory through a relay run
 * with `npm run relay`, on 127.0.70.x: the relay on .1, the stacks on .2 and .3, a stack with the
 * wrong secret on .4.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deriveContentKeys, deriveRelayKey } from "../../lib/cluster-keys";
import { OFFER_HEADER, RELAY_TARGET, offerHeader, sealRow } from "../../lib/relay-protocol";
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

  /**
   * A probe cell that knows the relay key, speaking to the relay directly. Its refused pushes carry a
   * real row, sealed with the cluster's content key (the cells would take it: see below), and a vector
   * that would claim every row of `ra` if it were merged; so "nothing changed" means the refusal held.
   */
  const probe = "probe-cell";
  const probePair = generateKeyPair();
  const signedProbe = async (
    path: "/relay/push" | "/relay/pull",
    body: string,
    opts: { key?: string; created?: number; cellId?: string } = {},
  ) => {
    const pair = await probePair;
    const created = Math.floor((opts.created ?? Date.now()) / 1000);
    const id = opts.cellId ?? probe;
    const proof = await admissionProof(opts.key ?? (await deriveRelayKey(SECRET)), id, pair.publicKey, created);
    const request = new Request(`${RELAY_URL}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", [OFFER_HEADER]: offerHeader(pair.publicKey, created, proof) },
      body,
    });
    return signRequest(request, { keyId: id, privateKey: pair.privateKey }, { target: RELAY_TARGET, now: created * 1000 });
  };
  const sealedProbeRow = async (name: string, s: number) =>
    sealRow(await deriveContentKeys(SECRET), {
      t: "e",
      ns: "probe",
      n: name,
      y: "note",
      d: 0,
      h: `${String(Date.now()).padStart(15, "0")}-000000`,
      o: probe,
      s,
    });
  const poison = async (name: string) =>
    JSON.stringify({ rows: [await sealedProbeRow(name, 5)], vv: { [probe]: 5, ra: 1_000_000, rb: 1_000_000 }, complete: true });
  /** What a refused request must not change: the relay's row count, its cells, and its version vector. */
  const relayView = async () => {
    const pulled = await fetch(await signedProbe("/relay/pull", JSON.stringify({ vv: {}, limit: 1 })));
    expect(pulled.status).toBe(200);
    const h = await relay.health();
    return { rows: h.rows, cells: h.cells, tombstones: h.tombstones, vv: ((await pulled.json()) as { vv: unknown }).vv };
  };

  it("a cell that knows the relay key is admitted; replayed, stale, oversized and wrongly keyed pushes are refused", async () => {
    const before = await relayView(); // the probe's first request pins it
    expect(before.cells).toBe(3); // ra, rb and the probe; not the cell with the wrong secret
    const wrongKey = await fetch(
      await signedProbe("/relay/push", await poison("ByWrongKey"), {
        key: await deriveRelayKey("not-the-secret"),
        cellId: "probe-wrong",
      }),
    );
    expect(wrongKey.status).toBe(401);
    const stale = await fetch(
      await signedProbe("/relay/push", await poison("ByStale"), { created: Date.now() - 10 * 60_000, cellId: "probe-stale" }),
    );
    expect(stale.status).toBe(401);
    const padded = JSON.stringify({ ...JSON.parse(await poison("ByHuge")), pad: "x".repeat(3 * 1024 * 1024) });
    expect((await fetch(await signedProbe("/relay/push", padded))).status).toBe(413);
    const bad = await fetch(
      await signedProbe("/relay/push", JSON.stringify({ rows: [{ k: "short" }], vv: { ra: 1_000_000 }, complete: true })),
    );
    expect(bad.status).toBe(400);
    const speakingAsAnother = await fetch(await signedProbe("/relay/push", await poison("ByImpostor"), { cellId: "ra" }));
    expect(speakingAsAnother.status).toBe(401);
    expect(await relayView()).toEqual(before);

    // Admitted, the probe's push is taken (and the cells take its row: the refused ones were real rows too).
    const ok = await signedProbe(
      "/relay/push",
      JSON.stringify({ rows: [await sealedProbeRow("Admitted", 1)], vv: {}, complete: false }),
    );
    const replay = ok.clone();
    expect((await fetch(ok)).status).toBe(200);
    const taken = await relayView();
    expect(taken.rows).toBe((before.rows as number) + 1);
    expect(taken.cells).toBe(before.cells);
    expect(taken.vv).toEqual({ ...(before.vv as object), [probe]: 1 });
    await until(() => has(a, "probe", "Admitted"), 10_000, 50);
    const replayed = await fetch(replay);
    expect(replayed.status).toBe(401);
    expect(await replayed.text()).toMatch(/replay/);
    expect(await relayView()).toEqual(taken);
    for (const s of [a, b]) expect((await graphOf(s, "probe")).entities.map((e) => e.name)).toEqual(["Admitted"]);
  });

  it("unsigned, forged and replayed requests are refused and change nothing", async () => {
    const before = await relayView();
    const unsigned = await fetch(`${RELAY_URL}/relay/pull`, { method: "POST", body: JSON.stringify({ vv: {} }) });
    expect(unsigned.status).toBe(401);
    const forged = await fetch(`${RELAY_URL}/relay/push`, {
      method: "POST",
      headers: { "x-aios-cell": "ra", "signature-input": 'aios=("@method");created=1', signature: "aios=:AAAA:" },
      body: await poison("Forged"),
    });
    expect(forged.status).toBeGreaterThanOrEqual(400);
    expect(forged.status).toBeLessThan(500);
    // A real signature by the probe, its body swapped for another after signing.
    const signed = await signedProbe("/relay/push", JSON.stringify({ rows: [], vv: {}, complete: false }));
    const swapped = await fetch(new Request(signed, { body: await poison("Swapped") }));
    expect(swapped.status).toBeGreaterThanOrEqual(400);
    expect(swapped.status).toBeLessThan(500);
    expect(await relayView()).toEqual(before);
    for (const s of [a, b]) expect((await graphOf(s, "probe")).entities.map((e) => e.name)).toEqual(["Admitted"]);
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
