/**
 * CellIdentity, run in this isolate: its key pair, signing and verifying inter-cell requests
 * against pinned keys, replays, and admission without a cluster secret. Each test has its own
 * identities (all of them speak for this cell's id, "unit-cell").
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { CellIdentity, Verified } from "../../durable-objects/cell-identity";
import { inObject } from "./helpers";

let n = 0;
const freshIdentity = () => env.TEST_IDENTITY.get(env.TEST_IDENTITY.idFromName(`identity-${Date.now()}-${n++}`));
type Stub = ReturnType<typeof freshIdentity>;
const run = <R>(stub: Stub, fn: (id: CellIdentity, state: DurableObjectState) => R | Promise<R>) =>
  inObject<CellIdentity, R>(stub, fn);

interface Parts {
  url: string;
  headers: [string, string][];
  body: string;
}

/** A request signed by `stub`, taken apart: a body read in one object cannot be read in another. */
async function signed(stub: Stub, target = "unit-cell", body = '{"hello":1}'): Promise<Parts> {
  return run(stub, async (id) => {
    const r = await id.sign(
      new Request("http://127.0.0.1:8001/heartbeat?x=1", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      }),
      target,
    );
    return { url: r.url, headers: [...r.headers], body: await r.text() };
  });
}

/** The receiver verifies the request rebuilt from its parts (changed as `change` says). */
function verify(receiver: Stub, parts: Parts, change: Partial<Parts> = {}): Promise<Verified> {
  const p = { ...parts, ...change };
  return run(receiver, (id) => id.verify(new Request(p.url, { method: "POST", headers: p.headers, body: p.body })));
}

/** Two identities, the second of which has pinned the first's key: a sender and a receiver. */
async function pair(): Promise<{ sender: Stub; receiver: Stub; key: string }> {
  const sender = freshIdentity();
  const receiver = freshIdentity();
  const key = await run(sender, (id) => id.ownPublicKey());
  expect(await run(receiver, (id) => id.pin("unit-cell", key, "token"))).toEqual({ ok: true });
  return { sender, receiver, key };
}

describe("CellIdentity keys", () => {
  it("creates an Ed25519 key pair on first use and keeps it in its storage", async () => {
    const stub = freshIdentity();
    const key = await run(stub, (id) => id.ownPublicKey());
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 bytes, base64url
    const stored = await run(stub, (_id, state) =>
      state.storage.sql.exec<{ key: string; value: string }>("SELECT key, value FROM identity ORDER BY key").toArray(),
    );
    expect(stored.map((r) => r.key)).toEqual(["private_key", "public_key"]);
    expect(stored[1]!.value).toBe(key);
    expect(await run(stub, (id) => id.ownPublicKey())).toBe(key);
    expect(await run(freshIdentity(), (id) => id.ownPublicKey())).not.toBe(key);
  });

  it("pins one key per cell id: the same key again is fine, another is refused, unpinning forgets it", async () => {
    const stub = freshIdentity();
    const a = "a".repeat(43);
    const b = "b".repeat(43);
    expect(await run(stub, (id) => id.isAdmitted("peer"))).toBe(false);
    expect(await run(stub, (id) => id.pin("peer", a, "token"))).toEqual({ ok: true });
    expect(await run(stub, (id) => id.pin("peer", a, "secret"))).toEqual({ ok: true });
    expect(await run(stub, (id) => id.pin("peer", b, "token"))).toEqual({
      ok: false,
      reason: 'cell id "peer" is pinned to another key',
    });
    expect(await run(stub, (id) => id.pinnedKey("peer"))).toBe(a);
    expect(await run(stub, (id) => id.isAdmitted("peer"))).toBe(true);
    await run(stub, (id) => id.unpin("peer"));
    expect(await run(stub, (id) => id.isAdmitted("peer"))).toBe(false);
    expect(await run(stub, (id) => id.pin("peer", b, "token"))).toEqual({ ok: true });
  });
});

describe("CellIdentity signatures", () => {
  it("a request signed by a pinned key verifies, with its body, exactly once: a replay is refused", async () => {
    const { sender, receiver } = await pair();
    const parts = await signed(sender);
    expect(new Headers(parts.headers).get("signature")).toMatch(/^aios=:/);
    const first = await verify(receiver, parts);
    expect(first.ok).toBe(true);
    if (first.ok) {
      expect(first.cellId).toBe("unit-cell");
      expect(new TextDecoder().decode(first.body)).toBe('{"hello":1}');
    }
    expect(await verify(receiver, parts)).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/replay/i) });
  });

  it("refuses a changed body, a changed path and a key nobody pinned", async () => {
    const { sender, receiver } = await pair();
    expect(await verify(receiver, await signed(sender), { body: '{"hello":2}' })).toMatchObject({ ok: false });
    const moved = await verify(receiver, await signed(sender), { url: "http://127.0.0.1:8001/register?x=1" });
    expect(moved).toMatchObject({ ok: false, status: 401 });
    expect(await verify(receiver, await signed(freshIdentity()))).toMatchObject({ ok: false, status: 401 });
    // After the refusals, a good request still verifies.
    expect((await verify(receiver, await signed(sender))).ok).toBe(true);
  });

  it("refuses a request addressed to another cell", async () => {
    const { sender, receiver } = await pair();
    expect(await verify(receiver, await signed(sender, "some-other-cell"))).toMatchObject({ ok: false, status: 401 });
  });

  it("remembers nonces for twice the allowed clock skew, and forgets expired ones", async () => {
    const { sender, receiver } = await pair();
    const before = Date.now();
    expect((await verify(receiver, await signed(sender))).ok).toBe(true);
    const [row] = await run(receiver, (_id, state) =>
      state.storage.sql.exec<{ expires: number }>("SELECT expires FROM nonces").toArray(),
    );
    expect(row!.expires - before).toBeGreaterThanOrEqual(600_000);
    expect(row!.expires - Date.now()).toBeLessThanOrEqual(600_000);
    await run(receiver, (_id, state) => state.storage.sql.exec("UPDATE nonces SET expires = ?", Date.now() - 1));
    expect((await verify(receiver, await signed(sender))).ok).toBe(true);
    const left = await run(
      receiver,
      (_id, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM nonces").one().n,
    );
    expect(left).toBe(1);
  });
});

describe("CellIdentity admission without a cluster secret", () => {
  it("offers its key without a proof and admits no one but by hand", async () => {
    const stub = freshIdentity();
    const offer = await run(stub, (id) => id.offer());
    expect(offer).toMatchObject({ cell_id: "unit-cell", proof: null, public_key: await run(stub, (id) => id.ownPublicKey()) });
    const other = freshIdentity();
    const theirs = await run(other, (id) => id.offer());
    const accepted = await run(stub, (id) => id.acceptOffer({ ...theirs, cell_id: "newcomer" }));
    expect(accepted).toEqual({ ok: false, reason: "this cell has no AIOS_CLUSTER_SECRET" });
    const p = await signed(other);
    const admitted = await run(stub, (id) =>
      id.admit(new Request(p.url, { method: "POST", headers: p.headers, body: p.body }), { ...theirs, cell_id: "newcomer" }),
    );
    expect(admitted).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/AIOS_CLUSTER_SECRET/) });
    expect(await run(stub, (id) => id.isAdmitted("newcomer"))).toBe(false);
  });
});
