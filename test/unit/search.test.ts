/**
 * search_nodes over the two indexes (durable-objects/consciousness/search.ts):
 * whatever the writes, the result set is exactly the reference server's
 * substring match, whole-word matches come first, and the indexes follow
 * every write path, including a store created before the word index existed.
 */
import { env, runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ConsciousnessState } from "../../durable-objects/consciousness-state";
import { GraphStore, type Stamp } from "../../durable-objects/consciousness/graph";
import { MIGRATIONS } from "../../durable-objects/consciousness/schema";
import { IndexCompaction, indexPending, searchEntities } from "../../durable-objects/consciousness/search";
import { limit, migrate } from "../../lib/sql";
import { freshNamespace, ok } from "./helpers";

let objects = 0;
/** Runs `fn` with a GraphStore in a fresh state object of its own. */
function withStore<T>(fn: (graph: GraphStore, sql: SqlStorage, stamp: () => Stamp) => T): Promise<T> {
  const stub = env.STATE.get(env.STATE.idFromName(`search-${objects++}`));
  let oseq = 0;
  const stamp = (): Stamp => ({ hlc: `0017000000000${String(++oseq).padStart(2, "0")}-000000`, origin: "t", oseq });
  return runInDurableObject(stub, (_i, state) => fn(new GraphStore(state.storage.sql), state.storage.sql, stamp));
}

/**
 * An FTS5 index's numbers of levels and of segments, from its structure record (row 10 of its data
 * table): a 4-byte cookie, a 4-byte marker when the table deletes without content, then varints.
 */
function structure(sql: SqlStorage, table: string): { levels: number; segments: number } {
  const b = new Uint8Array(sql.exec<{ block: ArrayBuffer }>(`SELECT block FROM ${table}_data WHERE id = 10`).one().block);
  let i = b[4] === 0xff && b[5] === 0 && b[6] === 0 && b[7] === 1 ? 8 : 4;
  const varint = () => {
    let v = 0;
    for (;;) {
      const c = b[i++]!;
      v = v * 128 + (c & 0x7f);
      if (c < 0x80) return v;
    }
  };
  const levels = varint();
  return { levels, segments: varint() };
}

// Lower-case letters (ASCII and two accented ones, where every case folding agrees), upper-case
// ASCII, digits and separators: enough to make words, parts of words and phrases.
const CHARS = [..."abcdeéöXYZ019 -_.:/"];
const text = fc.array(fc.constantFrom(...CHARS), { minLength: 1, maxLength: 24 }).map((a) => a.join(""));
const NAMES = ["n1", "n2", "n3", "n4", "n5", "n6"];

type Write =
  | { kind: "create"; name: string; type: string; obs: string[] }
  | { kind: "add"; name: string; obs: string }
  | { kind: "delObs"; name: string; pick: number }
  | { kind: "delEntity"; name: string };
const write: fc.Arbitrary<Write> = fc.oneof(
  fc.record({
    kind: fc.constant("create" as const),
    name: fc.constantFrom(...NAMES),
    type: text,
    obs: fc.array(text, { maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant("add" as const), name: fc.constantFrom(...NAMES), obs: text }),
  fc.record({ kind: fc.constant("delObs" as const), name: fc.constantFrom(...NAMES), pick: fc.nat() }),
  fc.record({ kind: fc.constant("delEntity" as const), name: fc.constantFrom(...NAMES) }),
);

function apply(graph: GraphStore, ns: string, w: Write, stamp: () => Stamp): void {
  if (w.kind === "create")
    graph.createEntities({ namespace: ns, entities: [{ name: w.name, entityType: w.type, observations: w.obs }] }, stamp);
  if (w.kind === "add")
    graph.addObservations({ namespace: ns, observations: [{ entityName: w.name, contents: [w.obs] }] }, stamp);
  if (w.kind === "delEntity") graph.deleteEntities({ namespace: ns, entityNames: [w.name] }, stamp);
  if (w.kind === "delObs") {
    const e = graph.readGraph(ns).entities.find((x) => x.name === w.name);
    if (e && e.observations.length > 0) {
      const victim = e.observations[w.pick % e.observations.length]!;
      graph.deleteObservations({ namespace: ns, deletions: [{ entityName: w.name, observations: [victim] }] }, stamp);
    }
  }
}

const words = (s: string) => s.toLowerCase().split(/[^\p{L}\p{N}\p{Co}]+/u);

describe("search", () => {
  it("finds exactly the reference server's substring matches, whole words first, after any sequence of writes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(write, { minLength: 1, maxLength: 25 }),
        fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
        (writes, picks) =>
          withStore((graph, sql, stamp) => {
            const ns = "p";
            for (const w of writes) {
              try {
                apply(graph, ns, w, stamp);
              } catch {
                // an add to a missing entity is refused, as the reference does; nothing to index
              }
            }
            const live = graph.readGraph(ns).entities;
            const fields = (e: (typeof live)[number]) => [e.name, e.entityType, ...e.observations];
            // Queries: pieces of stored text (a whole field, a word, a slice) and one that matches nothing.
            const all = live.flatMap(fields);
            const queries = new Set(["zzzq"]);
            for (const p of picks) {
              const f = all[p % Math.max(all.length, 1)];
              if (!f) continue;
              queries.add(f.trim());
              queries.add(words(f).find((w) => w.length > 0) ?? f);
              queries.add(f.slice(p % f.length, (p % f.length) + 1 + (p % 5)).trim());
            }
            for (const q of [...queries].filter((q) => q.length > 0)) {
              const hits = searchEntities(sql, ns, q, 200);
              const expected = live
                .filter((e) => fields(e).some((f) => f.toLowerCase().includes(q.toLowerCase())))
                .map((e) => e.name);
              expect(hits.map((h) => h.name).sort(), `query ${JSON.stringify(q)}`).toEqual(expected.sort());
              const firstSubstring = hits.findIndex((h) => h.match === "substring");
              if (firstSubstring >= 0) expect(hits.slice(firstSubstring).every((h) => h.match === "substring")).toBe(true);
              for (const h of hits.filter((h) => h.match === "word")) {
                const e = live.find((x) => x.name === h.name)!;
                expect(
                  fields(e).some((f) => words(f).includes(q.toLowerCase())),
                  `${h.name} holds the word ${q}`,
                ).toBe(true);
              }
            }
          }),
      ),
      { numRuns: 40, seed: 20261125 },
    );
  }, 120_000);

  it("ranks whole-word matches above matches inside longer words, and a limit keeps the best", async () => {
    const ns = freshNamespace();
    await ok("/memory/create_entities", {
      namespace: ns,
      entities: [
        { name: "Decoder", entityType: "helper", observations: ["wraps jwtdecode for the gateway"] },
        { name: "AuthService", entityType: "service", observations: ["signs a JWT per session"] },
        { name: "Jwt", entityType: "library", observations: [] },
      ],
    });
    const r = await ok<{ ranked: { name: string; match: string }[] }>(`/memory/search_nodes?namespace=${ns}&query=jwt`);
    expect(r.ranked.map((x) => [x.name, x.match])).toEqual([
      ["Jwt", "word"],
      ["AuthService", "word"],
      ["Decoder", "substring"],
    ]);
    const one = await ok<{ ranked: { name: string }[] }>(`/memory/search_nodes?namespace=${ns}&query=JWT&limit=1`);
    expect(one.ranked.map((x) => x.name)).toEqual(["Jwt"]);
    // Under three letters: a whole word from the word index, then a scan for the rest.
    const short = await ok<{ ranked: { name: string; match: string }[] }>(`/memory/search_nodes?namespace=${ns}&query=a`);
    expect(short.ranked.map((x) => [x.name, x.match])).toEqual([
      ["AuthService", "word"],
      ["Decoder", "substring"],
      ["Jwt", "substring"],
    ]);
  });

  it("finds the longer words holding a query in the list of words, and in the trigram index when there are many", async () => {
    await withStore((graph, sql, stamp) => {
      const ns = "many";
      const many = Array.from({ length: 70 }, (_, i) => `e${i}`);
      const entities = many.map((name, i) => ({ name, entityType: "t", observations: [`w${i}qk${i} x${i}tailword`] }));
      entities.push({ name: "twice", entityType: "t", observations: ["qkzqkz and zyxwv"] });
      entities.push({ name: "other", entityType: "t", observations: ["AZYXW"] });
      graph.createEntities({ namespace: ns, entities }, stamp);
      const names = (q: string) =>
        searchEntities(sql, ns, q, 500)
          .map((h) => h.name)
          .sort();
      // From the list of words: a word holding the query twice counts once; case does not matter.
      expect(names("qkz")).toEqual(["twice"]);
      expect(names("QKZ")).toEqual(["twice"]);
      expect(names("zyxw")).toEqual(["other", "twice"]);
      expect(names("w1q")).toEqual(["e1"]);
      expect(names("qk1")).toEqual(["e1", "e10", "e11", "e12", "e13", "e14", "e15", "e16", "e17", "e18", "e19"]);
      // 70 longer words hold "tailword" and "ailwor", more than the list answers for: the trigram index does.
      expect(names("tailword")).toEqual([...many].sort());
      expect(names("ailwor")).toEqual([...many].sort());
    });
  });

  it("writes a limit into a statement only as a row count", () => {
    expect(limit(0)).toBe("0");
    expect(limit(80)).toBe("80");
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) expect(() => limit(bad)).toThrow(RangeError);
    // A number that is really text never reaches the statement either.
    expect(() => limit("1; DROP TABLE entities" as unknown as number)).toThrow(RangeError);
  });

  it("widens past index rows of other namespaces, deleted rows and other observations of one entity", async () => {
    await withStore((graph, sql, stamp) => {
      // The index's best rows for "kiwi" are all crowded out for namespace "p": 60 entities of another
      // namespace whose names hold the word (a name weighs twice), 30 deleted ones in "p", and one
      // entity of "p" with 40 matching observations. The three entities to find rank below all of them.
      graph.createEntities(
        {
          namespace: "q",
          entities: Array.from({ length: 60 }, (_, i) => ({ name: `kiwi ${i}`, entityType: "kiwi", observations: [] })),
        },
        stamp,
      );
      graph.createEntities(
        {
          namespace: "p",
          entities: Array.from({ length: 30 }, (_, i) => ({ name: `kiwi gone ${i}`, entityType: "kiwi", observations: [] })),
        },
        stamp,
      );
      graph.deleteEntities({ namespace: "p", entityNames: Array.from({ length: 30 }, (_, i) => `kiwi gone ${i}`) }, stamp);
      graph.createEntities(
        {
          namespace: "p",
          entities: [
            { name: "basket", entityType: "thing", observations: Array.from({ length: 40 }, (_, i) => `kiwi ${i}`) },
            { name: "a", entityType: "fruit", observations: ["one kiwi among many other words in a long note"] },
            { name: "b", entityType: "fruit", observations: ["a kiwi, again in a long note with many words"] },
            { name: "c", entityType: "fruit", observations: ["kiwifruit: a substring match, not a word"] },
          ],
        },
        stamp,
      );
      const hits = searchEntities(sql, "p", "kiwi", 3);
      expect(hits.map((h) => h.name).sort()).toEqual(["a", "b", "basket"]);
      expect(hits.every((h) => h.match === "word")).toBe(true);
      // Past the whole words, the trigram tier widens the same way to reach the substring match.
      expect(searchEntities(sql, "p", "kiwi", 4).map((h) => [h.name, h.match])).toContainEqual(["c", "substring"]);
    });
  });
  it("a store made before the current indexes gets them from its migration, filled from its rows", async () => {
    await withStore((graph, sql, stamp) => {
      // Back to a fresh store of the schema before search version 2, written by its own triggers.
      const v2 = MIGRATIONS.findIndex((m) => m.includes("CREATE TABLE search_pending"));
      for (const { type, name } of sql
        .exec<{ type: string; name: string }>("SELECT type, name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        .toArray()
        .filter((r) => !/^(_cf_|sqlite_)/.test(r.name) && !/_(data|idx|content|docsize|config)$/.test(r.name)))
        sql.exec(`DROP ${type === "trigger" ? "TRIGGER" : "TABLE"} IF EXISTS "${name}"`);
      migrate(sql, MIGRATIONS.slice(0, v2));
      graph.createEntities(
        { namespace: "old", entities: [{ name: "Legacy", entityType: "note", observations: ["kept from before"] }] },
        stamp,
      );
      migrate(sql, MIGRATIONS);
      expect(searchEntities(sql, "old", "before", 10)).toEqual([{ name: "Legacy", score: expect.any(Number), match: "word" }]);
      expect(searchEntities(sql, "old", "efor", 10)).toEqual([{ name: "Legacy", score: expect.any(Number), match: "substring" }]);
      graph.deleteEntities({ namespace: "old", entityNames: ["Legacy"] }, stamp);
      expect(searchEntities(sql, "old", "before", 10)).toEqual([]);
      expect(searchEntities(sql, "old", "efor", 10)).toEqual([]);
    });
  });

  it("a store indexed before the list of words gets that list from its word index", async () => {
    await withStore((graph, sql, stamp) => {
      graph.createEntities(
        { namespace: "old", entities: [{ name: "Legacy", entityType: "note", observations: ["kept from beforehand"] }] },
        stamp,
      );
      indexPending(sql);
      // Back to the schema before search version 3, with the rows in the word index as it left them.
      const v3 = MIGRATIONS.findIndex((m) => m.includes("CREATE TABLE search_terms"));
      for (const t of ["search_batch_terms", "search_batch", "search_term_endings", "search_terms"]) sql.exec(`DROP TABLE ${t}`);
      sql.exec("UPDATE _schema SET version = ?", v3);
      migrate(sql, MIGRATIONS);
      const terms = sql.exec<{ term: string }>("SELECT term FROM search_terms ORDER BY term").toArray();
      expect(terms.map((t) => t.term)).toEqual(["beforehand", "from", "kept", "legacy", "note"]);
      expect(searchEntities(sql, "old", "EFOREH", 10)).toEqual([
        { name: "Legacy", score: expect.any(Number), match: "substring" },
      ]);
    });
  });

  it("indexes writes in batches: queued by the write, indexed by the next search or shortly after", async () => {
    await withStore((graph, sql, stamp) => {
      indexPending(sql);
      graph.createEntities(
        { namespace: "q", entities: [{ name: "Queue", entityType: "note", observations: ["batched words"] }] },
        stamp,
      );
      const queued = () => sql.exec<{ n: number }>("SELECT count(*) AS n FROM search_pending").one().n;
      expect(queued()).toBe(2);
      expect(searchEntities(sql, "q", "batched", 10).map((h) => h.name)).toEqual(["Queue"]);
      expect(queued()).toBe(0);
      // Removed while still queued: it leaves the queue and never reaches the indexes.
      graph.addObservations({ namespace: "q", observations: [{ entityName: "Queue", contents: ["fleeting"] }] }, stamp);
      graph.deleteObservations({ namespace: "q", deletions: [{ entityName: "Queue", observations: ["fleeting"] }] }, stamp);
      expect(queued()).toBe(0);
      expect(searchEntities(sql, "q", "fleeting", 10)).toEqual([]);
    });
    // Through the state object: a write is indexed within moments, without a search.
    const ns = freshNamespace();
    await ok("/memory/create_entities", { namespace: ns, entities: [{ name: "Soon", entityType: "t", observations: ["x"] }] });
    const stub = env.STATE.get(env.STATE.idFromName("consciousness"));
    let left = -1;
    for (let i = 0; i < 50 && left !== 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      left = await runInDurableObject(
        stub,
        (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM search_pending").one().n,
      );
    }
    expect(left).toBe(0);
  });

  it("merges index segments once writes stop, to at most three per level, and searches answer the same", async () => {
    const stub = env.STATE.get(env.STATE.idFromName(`search-${objects++}`));
    let oseq = 0;
    const stamp = (): Stamp => ({ hlc: `001700000000000-${String(++oseq).padStart(6, "0")}`, origin: "t", oseq });
    const queries = ["kiwi", "iwi", "note", "ki", "zzz"];
    const search = (sql: SqlStorage) => queries.map((q) => searchEntities(sql, "c", q, 50));
    const shape = (sql: SqlStorage) => ({ words: structure(sql, "search_words"), trigrams: structure(sql, "search_trigrams") });
    const before = await runInDurableObject(stub, (_i, state) => {
      const sql = state.storage.sql;
      const graph = new GraphStore(sql);
      // Twelve small batches, each indexed on its own: a segment each, left unmerged by automerge.
      for (let b = 0; b < 12; b++) {
        graph.createEntities(
          {
            namespace: "c",
            entities: Array.from({ length: 20 }, (_, i) => ({
              name: `e${b}-${i}`,
              entityType: "note",
              observations: [`kiwi ${b} ${i}`, `a note about fruit number ${i}`],
            })),
          },
          stamp,
        );
        indexPending(sql);
      }
      new IndexCompaction(sql, (fn) => state.storage.transactionSync(fn)).afterBatch();
      return { ...shape(sql), hits: search(sql) };
    });
    const settled = (s: { levels: number; segments: number }) => s.segments <= 3 * s.levels;
    expect(settled(before.words) && settled(before.trigrams)).toBe(false);
    let after: ReturnType<typeof shape> | undefined;
    for (let i = 0; i < 100 && !(after && settled(after.words) && settled(after.trigrams)); i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await runInDurableObject(stub, (_i, state) => shape(state.storage.sql));
    }
    expect(after!.words.segments).toBeLessThan(before.words.segments);
    expect(after!.trigrams.segments).toBeLessThan(before.trigrams.segments);
    expect(settled(after!.words) && settled(after!.trigrams)).toBe(true);
    expect(await runInDurableObject(stub, (_i, state) => search(state.storage.sql))).toEqual(before.hits);
  });

  it("the state object merges the segments its write batches added, once writes stop", async () => {
    const stub = env.STATE.get(env.STATE.idFromName(`search-${objects++}`));
    // Six writes, each left to its own batch (0.1 s later): six segments per index, which automerge
    // leaves on one level, so only compaction brings them to three or fewer.
    for (let b = 0; b < 6; b++) {
      await runInDurableObject(stub, (object) => {
        (object as ConsciousnessState).createEntities({
          namespace: "w",
          entities: Array.from({ length: 20 }, (_, i) => ({
            name: `w${b}-${i}`,
            entityType: "note",
            observations: [`kiwi ${i}`],
          })),
        });
      });
      await new Promise((r) => setTimeout(r, 250));
    }
    const shape = () =>
      runInDurableObject(stub, (_i, state) => [
        structure(state.storage.sql, "search_words"),
        structure(state.storage.sql, "search_trigrams"),
      ]);
    let now = await shape();
    for (let i = 0; i < 100 && now.some((s) => s.segments > 3 * s.levels); i++) {
      await new Promise((r) => setTimeout(r, 100));
      now = await shape();
    }
    for (const s of now) expect(s.segments).toBeLessThanOrEqual(3 * s.levels);
  });
});
