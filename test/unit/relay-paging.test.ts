/**
 * The relay's replica: pulls come in pages bounded by rows and by bytes, ordered by origin then
 * sequence, and a cell that follows the answer page after page gets every row exactly once; a
 * complete push raises the relay's vector; the figures follow the rows as they change.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RelayReplica } from "../../durable-objects/relay-replica";
import { RELAY_PAGE_BYTES, RELAY_PAGE_ROWS, type SealedRow } from "../../lib/relay-protocol";
import type { VersionVector } from "../../lib/sync-types";
import { inObject } from "./helpers";

let objects = 0;
const fresh = () => env.TEST_RELAY.get(env.TEST_RELAY.idFromName(`paging-${objects++}`));
const inRelay = <R>(fn: (relay: RelayReplica) => R | Promise<R>) => inObject<RelayReplica, R>(fresh(), (r) => fn(r));

/** A sealed row as the relay sees it (it never opens one): a key, a stamp, a flag and `size` bytes of box. */
function row(origin: string, seq: number, opts: { key?: string; size?: number; d?: 0 | 1; time?: number } = {}): SealedRow {
  const k = (opts.key ?? `${origin}-${seq}`)
    .replace(/[^A-Za-z0-9_-]/g, "_")
    .padEnd(32, "_")
    .slice(0, 32);
  const h = `${String(1_700_000_000_000 + (opts.time ?? seq)).padStart(15, "0")}-000000`;
  return { k, h, o: origin, s: seq, d: opts.d ?? 0, x: "A".repeat(opts.size ?? 40) };
}

const rowsOf = (origin: string, n: number, size?: number) => Array.from({ length: n }, (_, i) => row(origin, i + 1, { size }));

/** Pulls from `vv` until the relay says there is no more, as a cell does (its vector rises with the rows it applied). */
function follow(relay: RelayReplica, from: VersionVector = {}, limit = RELAY_PAGE_ROWS) {
  const vv = { ...from };
  const pages: SealedRow[][] = [];
  for (let i = 0; i < 100; i++) {
    const page = relay.pull({ vv, limit });
    pages.push(page.rows);
    for (const r of page.rows) vv[r.o] = Math.max(vv[r.o] ?? 0, r.s);
    if (!page.more) return { pages, vv, last: page };
  }
  throw new Error("the relay never said there was no more");
}

describe("pulling from the relay, page after page", () => {
  it("pages by row count: every row once, origins in order, each origin's rows by sequence", async () => {
    const { pages, all } = await inRelay((relay) => {
      relay.push("cell-c", { rows: rowsOf("cell-c", 300), vv: {}, complete: false });
      relay.push("cell-a", { rows: rowsOf("cell-a", 700), vv: {}, complete: false });
      relay.push("cell-b", { rows: rowsOf("cell-b", 250), vv: {}, complete: false });
      const { pages } = follow(relay);
      return { pages, all: relay.pull({ vv: { "cell-a": 700, "cell-b": 250, "cell-c": 300 }, limit: 10 }) };
    });
    expect(pages.map((p) => p.length)).toEqual([500, 500, 250]);
    const got = pages.flat();
    expect(got.length).toBe(1250);
    expect(new Set(got.map((r) => r.k)).size).toBe(1250);
    const order = got.map((r) => `${r.o}/${String(r.s).padStart(4, "0")}`);
    expect(order).toEqual([...order].sort());
    // Holding everything, there is nothing to pull.
    expect(all).toMatchObject({ rows: [], more: false });
  });

  it("a page stops before 1 MiB of sealed rows, and following it still gets every row once", async () => {
    const size = 300_000;
    const { pages } = await inRelay((relay) => {
      relay.push("cell-a", { rows: rowsOf("cell-a", 5, size), vv: {}, complete: false });
      relay.push("cell-b", { rows: rowsOf("cell-b", 3, size), vv: {}, complete: false });
      return follow(relay);
    });
    for (const page of pages) expect(page.reduce((n, r) => n + r.x.length, 0)).toBeLessThanOrEqual(RELAY_PAGE_BYTES);
    expect(pages.map((p) => p.length)).toEqual([3, 3, 2]);
    expect(pages.flat().map((r) => `${r.o}/${r.s}`)).toEqual([
      "cell-a/1",
      "cell-a/2",
      "cell-a/3",
      "cell-a/4",
      "cell-a/5",
      "cell-b/1",
      "cell-b/2",
      "cell-b/3",
    ]);
  });

  it("a row larger than a page still comes, alone", async () => {
    const { pages } = await inRelay((relay) => {
      relay.push("cell-a", {
        rows: [row("cell-a", 1, { size: 40 }), row("cell-a", 2, { size: RELAY_PAGE_BYTES + 10 })],
        vv: {},
        complete: false,
      });
      return follow(relay);
    });
    expect(pages.map((p) => p.map((r) => r.s))).toEqual([[1], [2]]);
  });

  it("a holder of part of the rows gets only the rest, under its limit", async () => {
    const pages = await inRelay((relay) => {
      relay.push("cell-a", { rows: rowsOf("cell-a", 30), vv: {}, complete: false });
      relay.push("cell-b", { rows: rowsOf("cell-b", 10), vv: {}, complete: false });
      return follow(relay, { "cell-a": 25, "cell-b": 10 }, 2).pages;
    });
    expect(pages.map((p) => p.map((r) => `${r.o}/${r.s}`))).toEqual([
      ["cell-a/26", "cell-a/27"],
      ["cell-a/28", "cell-a/29"],
      ["cell-a/30"],
    ]);
  });
});

describe("pushing to the relay", () => {
  it("raises the relay's vector to the rows it took, and to the pusher's whole vector only when complete", async () => {
    const vectors = await inRelay((relay) => {
      const partial = relay.push("cell-a", { rows: rowsOf("cell-a", 3), vv: { "cell-a": 9, "cell-z": 4 }, complete: false }).vv;
      const complete = relay.push("cell-a", { rows: [], vv: { "cell-a": 9, "cell-z": 4 }, complete: true }).vv;
      const lower = relay.push("cell-b", { rows: [], vv: { "cell-a": 2 }, complete: true }).vv;
      return { partial, complete, lower, pulled: relay.pull({ vv: {}, limit: 10 }).vv };
    });
    expect(vectors.partial).toEqual({ "cell-a": 3 });
    expect(vectors.complete).toEqual({ "cell-a": 9, "cell-z": 4 });
    expect(vectors.lower).toEqual({ "cell-a": 9, "cell-z": 4 });
    expect(vectors.pulled).toEqual({ "cell-a": 9, "cell-z": 4 });
  });

  it("keeps the newer version of a row, and its figures count rows and tombstones as they change", async () => {
    const steps = await inRelay((relay) => {
      const out: { applied: number; rows: number; tombstones: number }[] = [];
      const step = (rows: SealedRow[]) => {
        const { applied } = relay.push("cell-a", { rows, vv: {}, complete: false });
        const f = relay.figures();
        out.push({ applied, rows: f.rows, tombstones: f.tombstones });
      };
      step([row("cell-a", 1, { key: "one" }), row("cell-a", 2, { key: "two" }), row("cell-a", 3, { key: "three", d: 1 })]);
      step([row("cell-a", 4, { key: "one", d: 1 })]); // deleted
      step([row("cell-a", 5, { key: "one", d: 0, time: 0 })]); // an older stamp: loses
      step([row("cell-a", 6, { key: "three", d: 0 })]); // written again
      step([row("cell-a", 7, { key: "four" }), row("cell-a", 7, { key: "four" })]); // the same row twice
      return out;
    });
    expect(steps).toEqual([
      { applied: 3, rows: 3, tombstones: 1 },
      { applied: 1, rows: 3, tombstones: 2 },
      { applied: 0, rows: 3, tombstones: 2 },
      { applied: 1, rows: 3, tombstones: 1 },
      { applied: 1, rows: 4, tombstones: 1 },
    ]);
  });
});
