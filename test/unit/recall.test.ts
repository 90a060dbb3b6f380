/**
 * Recall by meaning: vector maths, rank fusion, the in-memory index, the embedding backlog (batches,
 * restarts, model changes, failures), the schema migration of an older store, and the REST surface.
 * The embedder here is a real one of the simplest kind: a bag of hashed words, so texts that share
 * words have near vectors.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { EmbedBacklog, type EmbedFn, type Embedder } from "../../durable-objects/consciousness/embeddings";
import { GraphStore, type Stamp } from "../../durable-objects/consciousness/graph";
import { entityText, observationText, TEXTS_VERSION, vectorsOf } from "../../durable-objects/consciousness/entity-texts";
import { queryTerms, recall } from "../../durable-objects/consciousness/recall";
import { MIGRATIONS } from "../../durable-objects/consciousness/schema";
import { indexPending } from "../../durable-objects/consciousness/search";
import { VectorIndex } from "../../durable-objects/consciousness/vector-index";
import { EmbedError, embedderOf, embeddingsUrl } from "../../lib/embed/client";
import {
  entityScore,
  hybridScores,
  KEYWORD_WEIGHT,
  queryWords,
  SHARE_FLOOR,
  textWords,
  type Candidate,
} from "../../lib/embed/fusion";
import { dequantize, dot, fuseRanks, normalize, quantize, topK } from "../../lib/embed/vector";
import { migrate } from "../../lib/sql";
import { call, freshNamespace, ok } from "./helpers";
import { bagOfWords, bagSpec, DIM, hashWords } from "./bag-of-words";

const spec = bagSpec;

let objects = 0;
function withState<T>(
  fn: (sql: SqlStorage, graph: GraphStore, stamp: () => Stamp, tx: <R>(f: () => R) => R) => Promise<T> | T,
): Promise<T> {
  const stub = env.STATE.get(env.STATE.idFromName(`recall-${objects++}`));
  let oseq = 0;
  const stamp = (): Stamp => ({ hlc: `0017000000000${String(++oseq).padStart(3, "0")}-000000`, origin: "t", oseq });
  return runInDurableObject(stub, (_i, state) =>
    fn(state.storage.sql, new GraphStore(state.storage.sql), stamp, (f) => state.storage.transactionSync(f)),
  );
}

const MEMORIES = [
  { name: "ReleaseRunner", entityType: "host", observations: ["signs the macos packages", "builds the dmg installers"] },
  { name: "Postgres", entityType: "database", observations: ["stores customer accounts", "backed up nightly to s3"] },
  { name: "Grafana", entityType: "tool", observations: ["dashboards of latency"] },
];

async function drain(backlog: EmbedBacklog, s: Embedder): Promise<number> {
  let total = 0;
  for (let i = 0; i < 100; i++) {
    const n = await backlog.runBatch(s, 4);
    total += n;
    if (backlog.pending() === 0) break;
  }
  return total;
}

describe("vector maths", () => {
  it("normalizes to unit length and keeps a zero vector zero", () => {
    expect(dot(normalize([3, 4]), normalize([3, 4]))).toBeCloseTo(1, 6);
    expect([...normalize([0, 0])]).toEqual([0, 0]);
  });
  it("quantizes a unit vector to bytes whose dot products stay within 1% of the floats'", () => {
    const a = normalize(Array.from({ length: 512 }, (_, i) => Math.sin(i * 1.3)));
    const b = normalize(Array.from({ length: 512 }, (_, i) => Math.cos(i * 0.7) + 0.2));
    const qa = quantize(a);
    expect(Math.max(...[...qa.bytes].map(Math.abs))).toBe(127);
    expect(dot(dequantize(qa), dequantize(quantize(b)))).toBeCloseTo(dot(a, b), 2);
  });
  it("topK returns the k largest, best first", () => {
    const s = Float64Array.from([0.1, 0.9, 0.3, 0.9, -1, 0.5]);
    expect(topK(s, s.length, 3).map((x) => x.index)).toEqual([1, 3, 5]);
    expect(topK(s, 2, 5).map((x) => x.index)).toEqual([1, 0]);
    expect(topK(s, s.length, 0)).toEqual([]);
  });
  it("reciprocal rank fusion favours items found high by both lists", () => {
    const fused = [
      ...fuseRanks([
        ["a", "b", "c"],
        ["c", "a", "d"],
      ]),
    ]
      .sort((x, y) => y[1] - x[1])
      .map(([k]) => k);
    expect(fused).toEqual(["a", "c", "b", "d"]);
  });
});

describe("score fusion", () => {
  const candidates = (entries: [string, number, string][]) =>
    new Map<string, Candidate>(entries.map(([k, semantic, text]) => [k, { semantic, words: textWords(text) }]));

  it("an entity's semantic score is the mean of its own vector's and its best observation's", () => {
    expect(entityScore(0.6, 0.4)).toBeCloseTo(0.5, 9);
    expect(entityScore(0.6, undefined)).toBe(0.6);
    expect(entityScore(undefined, 0.4)).toBe(0.4);
    expect(entityScore(undefined, undefined)).toBeUndefined();
  });

  it("matches words in names split at CamelCase, acronyms and numbers too", () => {
    expect([...textWords("InvoiceRenderer (service)")]).toEqual(["invoicerenderer", "invoice", "renderer", "service"]);
    expect([...textWords("PDFArchive v2Api")]).toEqual(["pdfarchive", "pdf", "archive", "v2api", "v", "2", "api"]);
  });

  it("words that no candidate holds leave the semantic order as it is", () => {
    const c = candidates([
      ["A", 0.5, "signs the macos packages"],
      ["B", 0.4, "stores customer accounts"],
    ]);
    const fused = hybridScores(c, queryWords("which machine builds installers"));
    expect([...fused].map(([k, v]) => [k, v.score, v.share])).toEqual([
      ["A", 0.5, 0],
      ["B", 0.4, 0],
    ]);
  });

  it("one word of a long question held by an entity is no evidence; most of its words are", () => {
    const c = candidates([
      ["Meaning", 0.4, "the macos signing host"],
      ["OneWord", 0.38, "nightly backups of the machine"],
      ["Words", 0.3, "ReleaseRunner builds the dmg installers on a dedicated machine"],
    ]);
    const fused = hybridScores(c, queryWords("which machine builds installers for apple computers"));
    expect(fused.get("Meaning")!.score).toBe(0.4);
    // "machine" is one word of five (and two candidates hold it): below the floor, it adds nothing.
    expect(fused.get("OneWord")).toEqual({ score: 0.38, share: 0 });
    // Three of five: it rises above the semantic match.
    expect(fused.get("Words")!.share).toBeGreaterThan(SHARE_FLOOR);
    expect(fused.get("Words")!.score).toBeCloseTo(0.3 + KEYWORD_WEIGHT * fused.get("Words")!.share, 9);
    expect(fused.get("Words")!.score).toBeGreaterThan(fused.get("Meaning")!.score);
  });

  it("a word most candidates hold weighs less than a rare one", () => {
    const c = candidates([
      ["Rare", 0.1, "invoice pdf renderer"],
      ["Common1", 0.1, "invoice numbering"],
      ["Common2", 0.1, "invoice reminders"],
      ["Common3", 0.1, "quote to invoice"],
    ]);
    const fused = hybridScores(c, queryWords("invoice pdf"));
    expect(fused.get("Rare")!.share).toBe(1);
    // Holding only "invoice", which all four hold, is below the floor.
    expect(fused.get("Common1")!.share).toBe(0);
  });
});

describe("vector index", () => {
  it("finds the nearest rows of a brute-force ranking, only in the asked namespace", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const index = new VectorIndex("m", 32);
    const vectors = Array.from({ length: 400 }, () => normalize(Array.from({ length: 32 }, random)));
    vectors.forEach((v, i) => index.put(i, quantize(v), i % 3 === 0 ? "other" : "ns", 1000 + i));
    const q = normalize(Array.from({ length: 32 }, random));
    const truth = vectors
      .map((v, i) => ({ i, s: dot(v, q) }))
      .filter((x) => x.i % 3 !== 0)
      .sort((a, b) => b.s - a.s);
    const got = index.nearest(q, "ns", 10);
    expect(got).toHaveLength(10);
    expect(got[0]!.id).toBe(truth[0]!.i);
    // 8-bit components move scores by about 1%: what it finds is the true top ten but for near-ties.
    for (const n of got) {
      expect(n.id % 3).not.toBe(0);
      expect(n.entity).toBe(1000 + n.id);
      expect(Math.abs(n.score - dot(vectors[n.id]!, q))).toBeLessThan(0.02);
      expect(dot(vectors[n.id]!, q)).toBeGreaterThan(truth[9]!.s - 0.02);
    }
    expect(index.nearest(q, "missing", 10)).toEqual([]);
  });
  it("the sign pass of a large index keeps the nearest rows for exact ranking", () => {
    let seed = 11;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const centres = Array.from({ length: 50 }, () => normalize(Array.from({ length: 64 }, random)));
    const index = new VectorIndex("m", 64);
    const vectors = Array.from({ length: 6000 }, (_, i) => normalize(centres[i % 50]!.map((x) => x + 0.1 * random())));
    vectors.forEach((v, i) => index.put(i, quantize(v), "ns", i));
    const q = normalize(centres[7]!.map((x) => x + 0.1 * random()));
    const exact = index.nearest(q, "ns", 5, true);
    const signs = index.nearest(q, "ns", 5, false);
    expect(signs.map((n) => n.id)).toEqual(exact.map((n) => n.id));
    expect(exact.every((n) => n.id % 50 === 7)).toBe(true);
  });
  it("at 512 dimensions, the two sign passes find the exact top ten, per namespace, and follow removals", () => {
    let seed = 5;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const centres = Array.from({ length: 80 }, () => normalize(Array.from({ length: 512 }, random)));
    const index = new VectorIndex("m", 512);
    // 80 topics in both namespaces, 56 notes a topic in each; a query is a new note on one topic.
    const nsOf = (i: number) => (Math.floor(i / 80) % 2 ? "odd" : "even");
    const vectors = Array.from({ length: 9000 }, (_, i) => normalize(centres[i % 80]!.map((x) => x + 0.06 * random())));
    vectors.forEach((v, i) => index.put(i, quantize(v), nsOf(i), i));
    for (let c = 0; c < 10; c++) {
      const q = normalize(centres[c * 7]!.map((x) => x + 0.08 * random()));
      for (const ns of ["odd", "even"]) {
        const exact = index.nearest(q, ns, 10, true);
        const signs = index.nearest(q, ns, 10, false);
        expect(signs.map((n) => n.id)).toEqual(exact.map((n) => n.id));
        expect(signs.every((n) => nsOf(n.id) === ns && n.id % 80 === c * 7)).toBe(true);
      }
    }
    // A removed row is never found; the row moved into its slot still is, by its own vector.
    expect(index.nearest(vectors[3]!, "even", 1, false)[0]!.id).toBe(3);
    index.remove(3);
    expect(index.nearest(vectors[3]!, "even", 50, false).map((n) => n.id)).not.toContain(3);
    expect(index.nearest(vectors[8999]!, nsOf(8999), 1, false)[0]!.id).toBe(8999);
    expect(index.size).toBe(8999);
  });
  it("replaces a row's vector in place and forgets removed rows", () => {
    const index = new VectorIndex("m", 2);
    index.put(1, quantize(normalize([1, 0])), "ns", 1);
    index.put(2, quantize(normalize([0, 1])), "ns", 2);
    index.put(1, quantize(normalize([0, 1])), "ns", 1);
    expect(index.size).toBe(2);
    index.remove(1);
    expect(index.nearest(normalize([0, 1]), "ns", 5).map((n) => n.id)).toEqual([2]);
  });
});

describe("embedding backlog", () => {
  it("embeds every entity and observation once they are indexed, and nothing is sent before", async () => {
    await withState(async (sql, graph, stamp, tx) => {
      const backlog = new EmbedBacklog(sql, tx, bagOfWords);
      graph.createEntities({ namespace: "p", entities: MEMORIES }, stamp);
      expect(backlog.pending()).toBe(0);
      indexPending(sql);
      // Entities are queued with their observations (an observation also queues its entity).
      expect(backlog.pending()).toBe(3 + 5);
      expect(await drain(backlog, spec())).toBe(8);
      const s = backlog.status(spec());
      expect(s).toMatchObject({ state: "idle", pending: 0, done: 8, dimension: DIM, model: "remote:bag-of-words" });
      expect(s.rate_per_second).toBeGreaterThan(0);
      // A new observation queues itself and its entity again.
      graph.addObservations({ namespace: "p", observations: [{ entityName: "Grafana", contents: ["alerts on errors"] }] }, stamp);
      indexPending(sql);
      expect(backlog.pending()).toBe(2);
    });
  });

  it("a row queued again while its batch was being embedded stays queued", async () => {
    await withState(async (sql, graph, stamp, tx) => {
      let requeue = true;
      const slow: EmbedFn = (s, texts, d) => {
        if (requeue) {
          requeue = false;
          graph.addObservations({ namespace: "p", observations: [{ entityName: "Grafana", contents: ["new text"] }] }, stamp);
          indexPending(sql);
        }
        return bagOfWords(s, texts, d);
      };
      const backlog = new EmbedBacklog(sql, tx, slow);
      graph.createEntities({ namespace: "p", entities: [MEMORIES[2]!] }, stamp);
      indexPending(sql);
      await backlog.runBatch(spec(), 10);
      // Grafana's entity vector was made from the old text: it waits for the new one.
      expect(
        sql
          .exec<{ id: number }>("SELECT id FROM embed_pending")
          .toArray()
          .map((r) => r.id % 2),
      ).toContain(0);
      await drain(backlog, spec());
      expect(backlog.pending()).toBe(0);
    });
  });

  it("after a restart, rows without a vector of the current model are found again", async () => {
    await withState(async (sql, graph, stamp, tx) => {
      graph.createEntities({ namespace: "p", entities: MEMORIES }, stamp);
      indexPending(sql);
      // The queue is lost (say, work lost in a crash); the next backlog derives it from the rows.
      sql.exec("DELETE FROM embed_pending");
      const backlog = new EmbedBacklog(sql, tx, bagOfWords);
      expect(await drain(backlog, spec())).toBe(8);
    });
  });

  it("a change of model re-embeds everything and never mixes the two models' vectors", async () => {
    await withState(async (sql, graph, stamp, tx) => {
      graph.createEntities({ namespace: "p", entities: MEMORIES }, stamp);
      indexPending(sql);
      const first = new EmbedBacklog(sql, tx, bagOfWords);
      await drain(first, spec("a"));
      // A new model with a different dimension: the old vectors are never read for it.
      const wide: EmbedFn = (_s, texts) =>
        Promise.resolve(texts.map((t) => normalize([...hashWords(t), ...hashWords(t + " x")])));
      const second = new EmbedBacklog(sql, tx, wide);
      expect(second.vectors("remote:b")).toBeUndefined();
      await second.runBatch(spec("b"), 2);
      const partial = second.vectors("remote:b")!;
      expect(partial.dim).toBe(2 * DIM);
      expect(partial.size).toBe(2);
      await drain(second, spec("b"));
      expect(second.status(spec("b"))).toMatchObject({ pending: 0, done: 8, dimension: 2 * DIM });
      expect(sql.exec("SELECT DISTINCT model FROM vectors").toArray()).toEqual([{ model: "remote:b" }]);
    });
  });

  it("a change of what is embedded (the texts' version) re-embeds every row and replaces the old vectors", async () => {
    await withState(async (sql, graph, stamp, tx) => {
      graph.createEntities({ namespace: "p", entities: MEMORIES }, stamp);
      indexPending(sql);
      const embedded: string[] = [];
      const recording: EmbedFn = (s, texts) => {
        embedded.push(...texts);
        return bagOfWords(s, texts);
      };
      const v1 = vectorsOf(spec(), 1) as Embedder;
      const v2 = vectorsOf(spec(), 2) as Embedder;
      expect(vectorsOf(spec()).kind === "remote" && vectorsOf(spec())).toMatchObject({
        id: `remote:bag-of-words#texts${TEXTS_VERSION}`,
        model: "bag-of-words",
      });
      expect(v1.id).not.toBe(v2.id);
      await drain(new EmbedBacklog(sql, tx, recording), v1);
      expect(embedded).toHaveLength(8);
      const before = new Map(sql.exec("SELECT id, vec FROM vectors").raw<[number, ArrayBuffer]>());
      // The cell starts again with the new texts: every row is queued and embedded again, in place.
      const restarted = new EmbedBacklog(sql, tx, recording);
      expect(restarted.vectors(v2.id)).toBeUndefined();
      await drain(restarted, v2);
      expect(embedded).toHaveLength(16);
      expect(sql.exec("SELECT model, count(*) AS n FROM vectors GROUP BY model").toArray()).toEqual([{ model: v2.id, n: 8 }]);
      expect([...sql.exec("SELECT id FROM vectors").raw<[number]>()].map(([id]) => id).sort()).toEqual([...before.keys()].sort());
      const answer = await recall(sql, restarted, v2, { query: "dmg installers", namespace: "p", limit: 1, mode: "semantic" });
      expect(answer).toMatchObject({ model: v2.id, results: [{ name: "ReleaseRunner" }] });
      expect(vectorsOf({ kind: "off", reason: "off" })).toEqual({ kind: "off", reason: "off" });
    });
  });

  it("a failing embedder keeps the rows queued and backs off; a success clears the error", async () => {
    await withState(async (sql, graph, stamp, tx) => {
      let fail = true;
      const flaky: EmbedFn = (s, t, d) =>
        fail ? Promise.reject(new EmbedError("unreachable", "the embedder is unreachable: refused")) : bagOfWords(s, t, d);
      const backlog = new EmbedBacklog(sql, tx, flaky);
      graph.createEntities({ namespace: "p", entities: MEMORIES }, stamp);
      indexPending(sql);
      expect(await backlog.runBatch(spec())).toBe(0);
      const s = backlog.status(spec());
      expect(s).toMatchObject({
        state: "failing",
        pending: 8,
        failures_total: 1,
        last_error: "the embedder is unreachable: refused",
      });
      expect(s.retry_in_ms).toBeGreaterThan(0);
      // Within the backoff nothing is tried.
      fail = false;
      expect(await backlog.runBatch(spec())).toBe(0);
      expect(backlog.nextRun(spec())).toBeGreaterThan(Date.now());
    });
  });

  it("the vectors of deleted rows leave the index", async () => {
    await withState(async (sql, graph, stamp, tx) => {
      const backlog = new EmbedBacklog(sql, tx, bagOfWords);
      graph.createEntities({ namespace: "p", entities: MEMORIES }, stamp);
      indexPending(sql);
      await drain(backlog, spec());
      graph.deleteEntities({ namespace: "p", entityNames: ["Postgres"] }, stamp);
      const answer = await recall(sql, backlog, spec(), {
        query: "customer accounts database",
        namespace: "p",
        limit: 5,
        mode: "semantic",
      });
      expect(answer.results.map((r) => r.name)).not.toContain("Postgres");
    });
  });

  it("a store made before recall opens, and its rows are queued for embedding", async () => {
    await withState(async (sql, graph, stamp, tx) => {
      const before = MIGRATIONS.findIndex((m) => m.includes("CREATE TABLE IF NOT EXISTS vectors"));
      sql.exec("DROP TABLE vectors");
      sql.exec("DROP TABLE embed_pending");
      sql.exec("UPDATE _schema SET version = ?", before);
      // Written and indexed by the older schema (its indexing had no queue for embeddings).
      graph.createEntities({ namespace: "old", entities: MEMORIES }, stamp);
      sql.exec("DELETE FROM search_pending");
      migrate(sql, MIGRATIONS);
      const backlog = new EmbedBacklog(sql, tx, bagOfWords);
      expect(await drain(backlog, spec())).toBe(8);
      const answer = await recall(sql, backlog, spec(), {
        query: "dmg installers",
        namespace: "old",
        limit: 3,
        mode: "semantic",
      });
      expect(answer.results[0]!.name).toBe("ReleaseRunner");
    });
  });
});

describe("recall", () => {
  it("the keyword signal takes any of the query's words, not the whole query", () => {
    expect(queryTerms("Which machine builds the installers?")).toEqual(['"machine"', '"build"*', '"install"*']);
    expect(queryTerms("the of and")).toEqual([]);
  });

  it("fuses words and vectors, says which signals found each result and shows its best observations", async () => {
    await withState(async (sql, graph, stamp, tx) => {
      const backlog = new EmbedBacklog(sql, tx, bagOfWords);
      graph.createEntities({ namespace: "p", entities: MEMORIES }, stamp);
      indexPending(sql);
      await drain(backlog, spec());
      const answer = await recall(sql, backlog, spec(), {
        query: "where are the dmg installers built",
        namespace: "p",
        limit: 2,
        mode: "hybrid",
      });
      expect(answer.fallback).toBeUndefined();
      expect(answer.results.length).toBeLessThanOrEqual(2);
      expect(answer.results[0]).toMatchObject({ name: "ReleaseRunner", entityType: "host", observation_count: 2 });
      expect(answer.results[0]!.signals).toEqual(["keyword", "semantic"]);
      expect(answer.results[0]!.observations[0]).toBe("builds the dmg installers");
    });
  });

  it("scores an entity by the mean of its own vector's cosine and its best observation's", async () => {
    await withState(async (sql, graph, stamp, tx) => {
      const backlog = new EmbedBacklog(sql, tx, bagOfWords);
      graph.createEntities({ namespace: "p", entities: MEMORIES }, stamp);
      indexPending(sql);
      await drain(backlog, spec());
      const query = "builds the dmg installers";
      const q = hashWords(query);
      const [m] = MEMORIES;
      const own = dot(q, hashWords(entityText(m!.name, m!.entityType, m!.observations)));
      const best = Math.max(...m!.observations.map((o) => dot(q, hashWords(observationText(m!.name, o)))));
      expect(best - own).toBeGreaterThan(0.1);
      const answer = await recall(sql, backlog, spec(), { query, namespace: "p", limit: 1, mode: "semantic" });
      expect(answer.results[0]!.name).toBe("ReleaseRunner");
      expect(answer.results[0]!.score).toBeCloseTo((own + best) / 2, 2);
    });
  });

  it("in a namespace larger than the nearest vectors it reads, an entity with no observations scores by its own vector", async () => {
    await withState(async (sql, graph, stamp, tx) => {
      const backlog = new EmbedBacklog(sql, tx, bagOfWords);
      const fillers = Array.from({ length: 150 }, (_, i) => ({
        name: `Filler${i}`,
        entityType: "note",
        observations: [`filler text number ${i}`],
      }));
      graph.createEntities(
        { namespace: "p", entities: [...fillers, { name: "Lonely", entityType: "host", observations: [] }] },
        stamp,
      );
      indexPending(sql);
      for (let i = 0; i < 20 && backlog.pending() > 0; i++) await backlog.runBatch(spec(), 32);
      expect(backlog.pending()).toBe(0);
      const query = "lonely host";
      const own = dot(hashWords(query), hashWords(entityText("Lonely", "host", [])));
      const answer = await recall(sql, backlog, spec(), { query, namespace: "p", limit: 2, mode: "semantic" });
      expect(answer.results[0]!.name).toBe("Lonely");
      expect(answer.results[0]!.score).toBeCloseTo(own, 2);
    });
  });

  it("falls back to the word index, with the reason, when the query cannot be embedded", async () => {
    await withState(async (sql, graph, stamp, tx) => {
      const backlog = new EmbedBacklog(sql, tx, () =>
        Promise.reject(new EmbedError("timeout", "no answer from the embedder within 1000 ms")),
      );
      graph.createEntities({ namespace: "p", entities: MEMORIES }, stamp);
      const answer = await recall(sql, backlog, spec(), {
        query: "what is copied nightly",
        namespace: "p",
        limit: 5,
        mode: "hybrid",
      });
      expect(answer).toMatchObject({ fallback: true, reason: "no answer from the embedder within 1000 ms" });
      expect(answer.results.map((r) => [r.name, r.signals])).toEqual([["Postgres", ["keyword"]]]);
    });
  });

  it("caps the answer's size and says what it cut", async () => {
    await withState(async (sql, graph, stamp, tx) => {
      const big = "x".repeat(3000);
      const entities = Array.from({ length: 6 }, (_, i) => ({
        name: `Note${i}`,
        entityType: "note",
        observations: [`shared word ${i} ${big}`, `more ${i} ${big}`],
      }));
      graph.createEntities({ namespace: "p", entities }, stamp);
      const backlog = new EmbedBacklog(sql, tx, bagOfWords);
      const answer = await recall(sql, backlog, spec(), { query: "shared", namespace: "p", limit: 6, mode: "keyword" });
      const chars = answer.results.reduce((n, r) => n + r.name.length + r.entityType.length + r.observations.join("").length, 0);
      expect(chars).toBeLessThanOrEqual(8000);
      expect(answer.truncated).toMatchObject({ max_chars: 8000 });
      expect(answer.truncated!.omitted_observations + answer.truncated!.omitted_results).toBeGreaterThan(0);
    });
  });
});

describe("recall over REST", () => {
  it("refuses an empty, over-long or malformed request with a 400 naming the field", async () => {
    for (const [body, field] of [
      [{ query: "" }, "query"],
      [{ query: "   " }, "query"],
      [{ query: "x".repeat(1001) }, "query"],
      [{}, "query"],
      [{ query: "ok", limit: 0 }, "limit"],
      [{ query: "ok", limit: 51 }, "limit"],
      [{ query: "ok", mode: "fuzzy" }, "mode"],
      [{ query: "ok", namespace: "../x" }, "namespace"],
    ] as const) {
      const r = await call("/memory/recall", body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(((await r.json()) as { error: string }).error).toContain(field);
    }
    const get = await call("/memory/recall?limit=3");
    expect(get.status).toBe(400);
    expect(((await get.json()) as { error: string }).error).toContain("query");
  });

  it("answers from the word index with fallback and the reason when the cell has no embedder", async () => {
    const ns = freshNamespace();
    await ok("/memory/create_entities", { namespace: ns, entities: MEMORIES });
    const answer = await ok<{ fallback: boolean; reason: string; results: { name: string }[] }>(
      `/memory/recall?query=${encodeURIComponent("what happens nightly")}&namespace=${ns}`,
    );
    expect(answer.fallback).toBe(true);
    expect(answer.reason).toContain("AIOS_EMBED_URL");
    expect(answer.results.map((r) => r.name)).toEqual(["Postgres"]);
    const status = await ok<{ state: string; embedder: string }>("/memory/recall/status");
    expect(status).toMatchObject({ state: "off", embedder: "off" });
  });

  it("needs the token", async () => {
    const r = await call("/memory/recall", { query: "x" });
    expect(r.status).toBe(200);
    const { SELF } = await import("cloudflare:test");
    expect((await SELF.fetch("http://cell.test/memory/recall?query=x")).status).toBe(401);
  });
});

describe("embedder choice", () => {
  it("uses a remote endpoint when one is set, the built-in model when the launcher runs it, else none", () => {
    expect(
      embedderOf({ AIOS_EMBED_URL: "http://127.0.0.1:11434/v1", AIOS_EMBED_MODEL: "nomic-embed-text", AIOS_EMBED_API_KEY: "k" }),
    ).toMatchObject({
      kind: "remote",
      id: "remote:nomic-embed-text",
      endpoint: "http://127.0.0.1:11434/v1/embeddings",
      apiKey: "k",
    });
    expect(embedderOf({ AIOS_EMBED_BUILTIN_URL: "http://127.0.0.1:4000" })).toMatchObject({ kind: "builtin" });
    expect(embedderOf({ AIOS_EMBED: "off", AIOS_EMBED_URL: "http://x" })).toMatchObject({ kind: "off" });
    expect(embedderOf({})).toMatchObject({ kind: "off" });
    expect(embeddingsUrl("http://h:1")).toBe("http://h:1/v1/embeddings");
    expect(embeddingsUrl("http://h:1/v1/embeddings")).toBe("http://h:1/v1/embeddings");
  });
});
