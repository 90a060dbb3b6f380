/** Rows sealed for a relay: they open only whole, in place, with the cells' key; relay URLs are checked. */
import { beforeAll, describe, expect, it } from "vitest";
import { deriveContentKeys, type ContentKeys } from "../../lib/cluster-keys";
import { ConfigError, parseRelayConfig, parseStackConfig } from "../../lib/config";
import { parseRelayList } from "../../lib/relay-config";
import { openRow, parseOfferHeader, offerHeader, RELAY_BODY_LIMIT, sealRow, SealedRow } from "../../lib/relay-protocol";
import { CONTEXT_DATA_MAX, SyncRow } from "../../lib/sync-types";

const entity: SyncRow = { t: "e", ns: "proj", n: "Desk", y: "machine", d: 0, h: "001700000000000-000001", o: "cell-a", s: 7 };
const observation: SyncRow = {
  t: "o",
  g: "tag-1",
  ns: "proj",
  n: "Desk",
  c: "has two screens",
  a: "001700000000000-000001",
  d: 1,
  h: "001700000000001-000000",
  o: "cell-b",
  s: 3,
};

describe("sealed rows", () => {
  let keys: ContentKeys;
  beforeAll(async () => {
    keys = await deriveContentKeys("unit-secret");
  });

  it("a sealed row shows its stamp and tombstone flag, not its content, and opens to the same row", async () => {
    for (const row of [entity, observation]) {
      const sealed = await sealRow(keys, row);
      expect(SealedRow.safeParse(sealed).success).toBe(true);
      expect({ h: sealed.h, o: sealed.o, s: sealed.s, d: sealed.d }).toEqual({ h: row.h, o: row.o, s: row.s, d: row.d });
      const text = JSON.stringify(sealed);
      for (const plain of ["proj", "Desk", "machine", "screens", "tag-1"]) expect(text).not.toContain(plain);
      expect(await openRow(keys, sealed)).toEqual(row);
    }
  });

  it("the largest context a row can carry seals within the limits, and a page of one such row is a body the relay takes", async () => {
    // A context's data is JSON text: control characters come escaped; quotes, backslashes and wide characters do not.
    for (const ch of ["\u4e2d", '"', "\\"]) {
      const row: SyncRow = {
        t: "c",
        cell: "c".repeat(128),
        data: ch.repeat(CONTEXT_DATA_MAX),
        at: "2026-12-07T00:00:00.000Z",
        h: "001700000000000-000001",
        o: "cell-a",
        s: 1,
      };
      expect(SyncRow.safeParse(row).success).toBe(true);
      const sealed = await sealRow(keys, row);
      expect(SealedRow.safeParse(sealed).success, JSON.stringify(ch)).toBe(true);
      expect(JSON.stringify({ rows: [sealed], vv: { "cell-a": 1 }, complete: true }).length).toBeLessThan(RELAY_BODY_LIMIT);
      expect(await openRow(keys, sealed)).toEqual(row);
    }
  });

  it("two versions of one row share their keyed id; different rows do not", async () => {
    const v1 = await sealRow(keys, entity);
    const v2 = await sealRow(keys, { ...entity, y: "laptop", h: "001700000000009-000000", s: 9 });
    const other = await sealRow(keys, { ...entity, n: "Desk2" });
    expect(v2.k).toBe(v1.k);
    expect(other.k).not.toBe(v1.k);
  });

  it("a box moved to another id, stamp or tombstone flag, or opened with another key, does not open", async () => {
    const sealed = await sealRow(keys, entity);
    const other = await sealRow(keys, { ...entity, n: "Other" });
    expect(await openRow(keys, { ...sealed, k: other.k })).toBeUndefined();
    expect(await openRow(keys, { ...sealed, h: "001799999999999-000000" })).toBeUndefined();
    expect(await openRow(keys, { ...sealed, s: 99 })).toBeUndefined();
    expect(await openRow(keys, { ...sealed, o: "cell-z" })).toBeUndefined();
    expect(await openRow(keys, { ...sealed, d: 1 })).toBeUndefined();
    expect(await openRow(keys, { ...sealed, x: other.x })).toBeUndefined();
    expect(await openRow(await deriveContentKeys("another-secret"), sealed)).toBeUndefined();
  });

  it("the offer header round-trips and refuses anything else", () => {
    const h = offerHeader("A".repeat(43), 1_700_000_000, "B".repeat(43));
    expect(parseOfferHeader(h)).toEqual({ publicKey: "A".repeat(43), created: 1_700_000_000, proof: "B".repeat(43) });
    for (const bad of [null, "", "a b", "a 1 c d", "a! 1 c", "a x c"]) expect(parseOfferHeader(bad)).toBeUndefined();
  });
});

describe("AIOS_RELAY", () => {
  it("takes https anywhere and http on loopback only, without paths, each once", () => {
    expect(parseRelayList("https://relay.example.workers.dev, http://127.0.0.1:8787,https://relay.example.workers.dev/")).toEqual(
      ["https://relay.example.workers.dev", "http://127.0.0.1:8787"],
    );
    expect(parseRelayList("")).toEqual([]);
    expect(parseRelayList(undefined)).toEqual([]);
    expect(() => parseRelayList("http://192.168.1.5:8787")).toThrow(/loopback/);
    expect(() => parseRelayList("ftp://x")).toThrow(/https/);
    expect(() => parseRelayList("relay.example.com")).toThrow(/not a URL/);
    expect(() => parseRelayList("https://x.example/path")).toThrow(/no path/);
    expect(() => parseRelayList("https://user:pw@x.example")).toThrow(/credentials/);
  });

  const defaults = { hostname: "host", branch: "main", lanAddress: "192.168.1.2" };
  it("a bad relay URL, or a relay without a cluster secret, stops start-up naming AIOS_RELAY", () => {
    expect(parseStackConfig({ AIOS_RELAY: "https://r.example", AIOS_CLUSTER_SECRET: "s" }, defaults).relays).toEqual([
      "https://r.example",
    ]);
    const bad = () => parseStackConfig({ AIOS_RELAY: "http://10.0.0.1", AIOS_CLUSTER_SECRET: "s" }, defaults);
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/AIOS_RELAY/);
    expect(() => parseStackConfig({ AIOS_RELAY: "https://r.example" }, defaults)).toThrow(
      /AIOS_RELAY: needs AIOS_CLUSTER_SECRET/,
    );
  });

  it("npm run relay needs a relay key of the right shape, or a cluster secret, and a valid port", () => {
    expect(parseRelayConfig({ AIOS_CLUSTER_SECRET: "s" })).toMatchObject({ port: 8787, host: "0.0.0.0", clusterSecret: "s" });
    const key = "k".repeat(43);
    const withKey = parseRelayConfig({ AIOS_RELAY_KEY: key, AIOS_CLUSTER_SECRET: "s", AIOS_RELAY_PORT: "9000" });
    expect(withKey).toMatchObject({ port: 9000, relayKey: key });
    expect(withKey.clusterSecret).toBeUndefined();
    expect(() => parseRelayConfig({})).toThrow(/AIOS_RELAY_KEY/);
    expect(() => parseRelayConfig({ AIOS_RELAY_KEY: "short" })).toThrow(/AIOS_RELAY_KEY/);
    expect(() => parseRelayConfig({ AIOS_CLUSTER_SECRET: "s", AIOS_RELAY_PORT: "70000" })).toThrow(/AIOS_RELAY_PORT/);
  });
});
