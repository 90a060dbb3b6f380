/**
 * The anti-entropy loop's cadence, against stand-in peers (fetch stubbed): rounds come every
 * SYNC_INTERVAL_MS while anything is unsettled and every SYNC_IDLE_INTERVAL_MS once QUIET_ROUNDS
 * rounds in a row found nothing to repair; a write, a poke, rows, a failure or a new peer bring the
 * short interval back.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  QUIET_ROUNDS,
  SYNC_IDLE_INTERVAL_MS,
  SYNC_INTERVAL_MS,
  SyncLoop,
  type SyncHost,
  type SyncPeer,
} from "../../durable-objects/consciousness/sync";
import type { SyncState } from "../../durable-objects/consciousness/sync-state";
import type { SyncRow, VersionVector } from "../../lib/sync-types";

const row: SyncRow = { t: "e", ns: "p", n: "Desk", y: "machine", d: 0, h: "001700000000000-000001", o: "b", s: 1 };

/** A cell whose peers answer pulls with `answer()`; `settle` waits for its background work. */
function cell(peers: SyncPeer[]) {
  const vv: VersionVector = {};
  const pending: Promise<unknown>[] = [];
  const host: SyncHost = {
    cellId: "a",
    state: { roundOk: () => undefined, roundFailed: () => undefined } as unknown as SyncState,
    identity: () => ({ sign: async (r: Request) => r }) as never,
    alivePeers: async () => peers,
    vector: () => vv,
    applyRemote: (rows) => {
      for (const r of rows) vv[r.o] = Math.max(vv[r.o] ?? 0, r.s);
      return rows.length;
    },
    mergeVector: () => undefined,
    count: () => undefined,
    background: (p) => pending.push(p),
  };
  const settle = async () => {
    while (pending.length) await pending.shift();
  };
  return { loop: new SyncLoop(host), vv, settle };
}

/** Peers' answers: in sync with `vv` unless told to send rows or fail. */
function answering(vv: VersionVector, next: { rows?: SyncRow[]; status?: number } = {}) {
  vi.stubGlobal("fetch", async (req: Request) => {
    if (new URL(req.url).pathname === "/sync/poke") return new Response("{}", { status: 200 });
    if (next.status) return new Response("down", { status: next.status });
    const rows = next.rows ?? [];
    const theirs = { ...vv };
    for (const r of rows) theirs[r.o] = Math.max(theirs[r.o] ?? 0, r.s);
    return new Response(JSON.stringify({ rows, vv: theirs, more: false }), { status: 200 });
  });
}

afterEach(() => vi.unstubAllGlobals());

const B = { cell_id: "b", url: "http://127.0.0.2:8000" };

describe("anti-entropy cadence", () => {
  it("rounds slow down once quiet, and speed up after a write, a poke, rows or a failure", async () => {
    const { loop, vv, settle } = cell([B]);
    answering(vv);
    const quietDown = async (rounds = QUIET_ROUNDS) => {
      for (let i = 0; i < rounds; i++) {
        expect(loop.interval()).toBe(SYNC_INTERVAL_MS);
        await loop.round();
      }
      expect(loop.interval()).toBe(SYNC_IDLE_INTERVAL_MS);
    };
    // The first round (a new peer) is not quiet; the next QUIET_ROUNDS are.
    await quietDown(QUIET_ROUNDS + 1);

    loop.poke(); // a local write
    await settle();
    await loop.round();
    expect(loop.interval()).toBe(SYNC_INTERVAL_MS);
    await quietDown();

    await loop.poked("b");
    await settle();
    await loop.round();
    expect(loop.interval()).toBe(SYNC_INTERVAL_MS);
    await quietDown();

    answering(vv, { rows: [row] });
    await loop.round();
    expect(loop.interval()).toBe(SYNC_INTERVAL_MS);
    answering(vv);
    await quietDown();

    answering(vv, { status: 503 });
    await loop.round();
    expect(loop.interval()).toBe(SYNC_INTERVAL_MS);
  });

  it("a peer that joins brings the short interval back; with no peers it stays short", async () => {
    const peers = [B];
    const { loop, vv } = cell(peers);
    answering(vv);
    for (let i = 0; i <= QUIET_ROUNDS; i++) await loop.round();
    expect(loop.interval()).toBe(SYNC_IDLE_INTERVAL_MS);
    peers.push({ cell_id: "c", url: "http://127.0.0.3:8000" });
    await loop.round();
    expect(loop.interval()).toBe(SYNC_INTERVAL_MS);

    const alone = cell([]);
    for (let i = 0; i <= QUIET_ROUNDS + 2; i++) await alone.loop.round();
    expect(alone.loop.interval()).toBe(SYNC_INTERVAL_MS);
  });
});
