/**
 * The relay's admission and its costs: a request is one call to the relay's object, which verifies
 * and serves it; a pinned cell keeps working without its offer until the relay key is rotated, and is
 * then refused until it proves the new key; a replica written by the previous schema opens with the
 * right figures; /health reads figures, not the rows.
 */
import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { RelayReplica, relayKeyFingerprint, type RelayOp } from "../../durable-objects/relay-replica";
import { admissionProof, generateKeyPair, signRequest, type KeyPair } from "../../durable-objects/identity/signing";
import { OFFER_HEADER, RELAY_TARGET, offerHeader } from "../../lib/relay-protocol";
import { relayApp, type RelayWorkerEnv } from "../../workers/relay/routes";
import { inObject } from "./helpers";

const KEY = env.AIOS_RELAY_KEY;
const ROTATED = "rotated-relay-key-0123456789abcdefghijklmnop";
const ctx = { waitUntil: () => undefined, passThroughOnException: () => undefined } as unknown as ExecutionContext;

let objects = 0;
const freshName = () => `replica-${objects++}`;

/** A signed pull (or push, or news upgrade) from `cell`, with an offer proving `offerKey` unless it is null. */
async function signed(
  cell: string,
  pair: KeyPair,
  offerKey: string | null,
  path: "/relay/pull" | "/relay/push" | "/relay/ws" = "/relay/pull",
  body: unknown = path === "/relay/push" ? { rows: [], vv: {}, complete: false } : { vv: {} },
): Promise<Request> {
  const created = Math.floor(Date.now() / 1000);
  const headers = new Headers({ "content-type": "application/json" });
  if (offerKey !== null) {
    headers.set(
      OFFER_HEADER,
      offerHeader(pair.publicKey, created, await admissionProof(offerKey, cell, pair.publicKey, created)),
    );
  }
  const ws = path === "/relay/ws";
  if (ws) headers.set("upgrade", "websocket");
  const request = new Request(`http://relay.test${path}`, {
    method: ws ? "GET" : "POST",
    headers,
    body: ws ? undefined : JSON.stringify(body),
  });
  return signRequest(request, { keyId: cell, privateKey: pair.privateKey }, { target: RELAY_TARGET });
}

/** The nonce a signed request carries (its Signature-Input's `nonce` parameter). */
const nonceOf = (request: Request) => /;nonce="([^"]+)"/.exec(request.headers.get("signature-input") ?? "")![1]!;

/** The relay worker over a namespace whose stub counts every call the worker makes on it (the object has no others). */
function countedRelay() {
  const calls: string[] = [];
  const namespace = {
    idFromName: (n: string) => env.TEST_RELAY.idFromName(n),
    get: (id: DurableObjectId) => {
      const stub = env.TEST_RELAY.get(id);
      return {
        figures: () => (calls.push("figures"), stub.figures()),
        serve: (request: Request, op: RelayOp) => (calls.push("serve"), stub.serve(request, op)),
        fetch: (request: Request) => (calls.push("fetch"), stub.fetch(request)),
      };
    },
  } as unknown as DurableObjectNamespace<RelayReplica>;
  const workerEnv = { RELAY: namespace, AIOS_RELAY_KEY: KEY, AIOS_LOG_LEVEL: "error" } as unknown as RelayWorkerEnv;
  const fetch = (request: Request) => relayApp.fetch(request, workerEnv, ctx);
  // The worker's one object ("relay"), shared by the tests that go through the worker.
  return { calls, fetch, stub: env.TEST_RELAY.get(env.TEST_RELAY.idFromName("relay")) };
}

describe("a relay request", () => {
  it("is one call to the relay's object, which verifies and serves it; what the worker refuses alone is none", async () => {
    const relay = countedRelay();
    const pair = await generateKeyPair();
    const before = await relay.stub.figures();
    const health = await relay.fetch(new Request("http://relay.test/health"));
    expect(health.status, await health.clone().text()).toBe(200);
    expect(relay.calls).toEqual(["figures"]);

    relay.calls.length = 0;
    for (const path of ["/relay/pull", "/relay/push"] as const) {
      const res = await relay.fetch(await signed("cell-one", pair, KEY, path));
      expect(res.status, await res.clone().text()).toBe(200);
    }
    const ws = await relay.fetch(await signed("cell-one", pair, null, "/relay/ws"));
    expect(ws.status).toBe(101);
    ws.webSocket!.accept();
    ws.webSocket!.close(1000, "done");
    expect(relay.calls).toEqual(["serve", "serve", "fetch"]);

    relay.calls.length = 0;
    const unsigned = await relay.fetch(new Request("http://relay.test/relay/pull", { method: "POST", body: "{}" }));
    expect(unsigned.status).toBe(401);
    const anonymous = await signed("cell-one", pair, KEY);
    anonymous.headers.delete("x-aios-cell");
    expect((await relay.fetch(anonymous)).status).toBe(401);
    const elsewhere = await signed("cell-one", pair, KEY);
    elsewhere.headers.set("x-aios-target", "some-cell");
    expect((await relay.fetch(elsewhere)).status).toBe(401);
    expect(relay.calls).toEqual([]);

    // Refused by the object: counted in memory (no storage write), and one call.
    const forged = await signed("cell-b", await generateKeyPair(), "not-the-relay-key-0123456789abcdefghijklm");
    const refused = await relay.fetch(forged);
    expect(refused.status).toBe(401);
    expect(await refused.text()).toMatch(/admission refused/);
    expect(relay.calls).toEqual(["serve"]);
    const after = await relay.stub.figures();
    const delta = (k: "cells" | "pulls" | "pushes" | "refused") => after[k] - before[k];
    expect([delta("cells"), delta("pulls"), delta("pushes"), delta("refused")]).toEqual([1, 1, 1, 1]);
  });

  it("a bad body from an admitted cell is a 400 naming the field, and changes nothing", async () => {
    const relay = countedRelay();
    const pair = await generateKeyPair();
    const before = await relay.stub.figures();
    const bad = await relay.fetch(
      await signed("cell-bad", pair, KEY, "/relay/push", { rows: [{ k: "short" }], vv: {}, complete: false }),
    );
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/rows/);
    expect(await relay.stub.figures()).toMatchObject({ rows: before.rows, pushes: before.pushes });
  });
});

describe("what the relay costs in rows", () => {
  it("an idle pull from a pinned cell writes two rows (its nonce, and the tally of requests) and reads a handful", async () => {
    const stub = env.TEST_RELAY.get(env.TEST_RELAY.idFromName(freshName()));
    const pair = await generateKeyPair();
    expect((await stub.serve(await signed("idle-cell", pair, KEY), "pull")).status).toBe(200);
    const before = await stub.figures();
    for (let i = 0; i < 10; i++) expect((await stub.serve(await signed("idle-cell", pair, null), "pull")).status).toBe(200);
    const after = await stub.figures();
    expect(after.sql_rows_written - before.sql_rows_written).toBe(20);
    expect(after.pulls - before.pulls).toBe(10);
    expect((after.sql_rows_read - before.sql_rows_read) / 10).toBeLessThanOrEqual(5);
  });

  it("a sweep deletes expired nonces and keeps the others", async () => {
    const stub = env.TEST_RELAY.get(env.TEST_RELAY.idFromName(freshName()));
    const pair = await generateKeyPair();
    const left = await inObject<RelayReplica, string[]>(stub, async (relay, state) => {
      state.storage.sql.exec(
        "INSERT INTO nonces VALUES ('sweep-cell', 'expired', ?), ('sweep-cell', 'live', ?)",
        1,
        Date.now() + 60_000,
      );
      const chance = vi.spyOn(Math, "random").mockReturnValue(0); // this request's turn to sweep
      try {
        expect((await relay.serve(await signed("sweep-cell", pair, KEY), "pull")).status).toBe(200);
      } finally {
        chance.mockRestore();
      }
      return state.storage.sql
        .exec<{ nonce: string }>("SELECT nonce FROM nonces WHERE key_id = 'sweep-cell'")
        .toArray()
        .map((r) => r.nonce);
    });
    expect(left).toHaveLength(2);
    expect(left).toContain("live");
    expect(left).not.toContain("expired");
  });

  it("/health's figures read the same few rows however many rows the relay holds", async () => {
    const stub = env.TEST_RELAY.get(env.TEST_RELAY.idFromName(freshName()));
    const reads = async () => {
      const a = await stub.figures();
      const b = await stub.figures();
      return b.sql_rows_read - a.sql_rows_read;
    };
    const empty = await reads();
    await inObject<RelayReplica, void>(stub, (relay) => {
      const rows = Array.from({ length: 400 }, (_, i) => ({
        k: `k${i}`.padEnd(32, "_"),
        h: `${String(1_700_000_000_000 + i).padStart(15, "0")}-000000`,
        o: "cell-a",
        s: i + 1,
        d: (i % 2) as 0 | 1,
        x: "AAAA",
      }));
      relay.push("cell-a", { rows, vv: {}, complete: false });
    });
    expect(await stub.figures()).toMatchObject({ rows: 400, tombstones: 200 });
    expect(await reads()).toBe(empty);
  });
});

describe("rotating the relay key", () => {
  it("a pinned cell is refused until it proves the new key; a cell that proves it keeps its pin", async () => {
    const stub = env.TEST_RELAY.get(env.TEST_RELAY.idFromName(freshName()));
    const laptop = await generateKeyPair();
    expect((await stub.serve(await signed("laptop", laptop, KEY), "pull")).status).toBe(200);
    // Pinned: the offer is no longer needed while the key is the same.
    expect((await stub.serve(await signed("laptop", laptop, null), "pull")).status).toBe(200);

    const after = await inObject<RelayReplica, { status: number; text: string }[]>(stub, async (_old, state) => {
      const rotated = new RelayReplica(state, { AIOS_RELAY_KEY: ROTATED });
      const out: { status: number; text: string }[] = [];
      const send = async (request: Request, op: "pull" | "push" = "pull") => {
        const res = await rotated.serve(request, op);
        out.push({ status: res.status, text: await res.text() });
      };
      await send(await signed("laptop", laptop, null)); // the pin alone
      await send(await signed("laptop", laptop, KEY)); // proving the old key
      await send(await signed("laptop", await generateKeyPair(), ROTATED)); // another key under its id
      await send(await signed("laptop", laptop, ROTATED)); // proving the new key
      await send(await signed("laptop", laptop, null)); // pinned again, under the new key
      out.push({ status: 0, text: JSON.stringify(rotated.figures()) });
      return out;
    });
    expect(after.map((r) => r.status)).toEqual([401, 401, 401, 200, 200, 0]);
    expect(after[0]!.text).toMatch(/relay key changed/);
    expect(after[1]!.text).toMatch(/admission refused/);
    expect(after[2]!.text).toMatch(/pinned to another key/);
    expect(JSON.parse(after[5]!.text)).toMatchObject({ cells: 1, refused: 3 });
  });
});

/** The relay's schema before figures were kept as they change and pins recorded their relay key. */
const FIRST_SCHEMA = `CREATE TABLE rows (k TEXT PRIMARY KEY, h TEXT NOT NULL, o TEXT NOT NULL, s INTEGER NOT NULL, d INTEGER NOT NULL, x TEXT NOT NULL);
   CREATE INDEX rows_origin ON rows (o, s);
   CREATE TABLE vv (origin TEXT PRIMARY KEY, seq INTEGER NOT NULL);
   CREATE TABLE pinned (cell_id TEXT PRIMARY KEY, public_key TEXT NOT NULL, pinned_at INTEGER NOT NULL);
   CREATE TABLE nonces (key_id TEXT NOT NULL, nonce TEXT NOT NULL, expires INTEGER NOT NULL, PRIMARY KEY (key_id, nonce));
   CREATE INDEX nonces_expiry ON nonces (expires);
   CREATE TABLE counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL);`;

describe("a relay written by the previous version", () => {
  it("opens with the right figures and its seen nonces, and its pinned cells are admitted again once they prove the key", async () => {
    const stub = env.TEST_RELAY.get(env.TEST_RELAY.idFromName(freshName()));
    const desk = await generateKeyPair();
    const result = await inObject<RelayReplica, Record<string, unknown>>(stub, async (_current, state) => {
      const sql = state.storage.sql;
      for (const t of ["rows", "vv", "pinned", "nonces", "counters", "tally", "_schema"]) sql.exec(`DROP TABLE IF EXISTS ${t}`);
      sql.exec(FIRST_SCHEMA);
      sql.exec("CREATE TABLE _schema (version INTEGER NOT NULL); INSERT INTO _schema (version) VALUES (1)");
      const stamp = (i: number) => `00170000000000${i}-000000`;
      for (let i = 1; i <= 5; i++) {
        sql.exec("INSERT INTO rows VALUES (?, ?, 'desk', ?, ?, 'AAAA')", `k${i}`.padEnd(32, "_"), stamp(i), i, i > 3 ? 1 : 0);
      }
      sql.exec("INSERT INTO vv VALUES ('desk', 5)");
      sql.exec("INSERT INTO pinned VALUES ('desk', ?, 1), ('lost-laptop', 'AAAA', 2)", desk.publicKey);
      sql.exec("INSERT INTO counters VALUES ('pushes', 7), ('pulls', 40), ('refused', 3)");
      const seen = await signed("desk", desk, KEY);
      sql.exec("INSERT INTO nonces VALUES ('desk', ?, ?)", nonceOf(seen), Date.now() + 600_000);

      const reopened = new RelayReplica(state, { AIOS_RELAY_KEY: KEY });
      const figures = reopened.figures();
      const withoutOffer = await reopened.serve(await signed("desk", desk, null), "pull");
      const withOffer = await reopened.serve(await signed("desk", desk, KEY), "pull");
      const replayed = await reopened.serve(seen, "pull");
      const pins = sql
        .exec<{ cell_id: string; key_fp: string | null }>("SELECT cell_id, key_fp FROM pinned ORDER BY cell_id")
        .toArray();
      return { figures, withoutOffer: withoutOffer.status, withOffer: withOffer.status, replayed: await replayed.text(), pins };
    });
    expect(result.figures).toMatchObject({ cells: 2, rows: 5, tombstones: 2, pushes: 7, pulls: 40, refused: 3 });
    expect(result.withoutOffer).toBe(401);
    expect(result.withOffer).toBe(200);
    expect(result.replayed).toMatch(/replayed/); // the nonces it had seen are still refused
    expect(result.pins).toEqual([
      { cell_id: "desk", key_fp: await relayKeyFingerprint(KEY) },
      { cell_id: "lost-laptop", key_fp: null },
    ]);
  });
});
