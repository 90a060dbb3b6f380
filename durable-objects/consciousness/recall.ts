/**
 * Recall: the entities of a namespace that answer a question, best first, from
 * two signals:
 *   - keyword: bm25 over the word index (search.ts) for ANY of the query's
 *     words (stop words dropped, simple endings folded into prefixes), not the
 *     whole query as one substring as search_nodes does;
 *   - semantic: the nearest vectors of the current model (vector-index.ts) to
 *     the query's embedding; an entity scores the mean of its own vector's
 *     cosine and its best observation's (lib/embed/fusion.ts).
 * Hybrid adds to the semantic score of each entity either signal proposed a
 * weight times the idf-weighed share of the query's words it holds (name split
 * at CamelCase, type, observations); lib/embed/fusion.ts says why, and
 * bench/recall.ts measures it against the alternatives.
 * Each result shows its best observations only, and the answer has a size cap
 * it reports when it cuts. When the embedder cannot embed the query the
 * answer comes from the word index alone, with fallback: true and the reason.
 */
import { EmbedError, type EmbedderSpec } from "../../lib/embed/client";
import {
  RECALL_LIMITS,
  type RecallAnswer,
  type RecallRequest,
  type RecallResult,
  type RecallSignal,
} from "../../lib/recall-types";
import { entityScore, holds, hybridScores, queryWords, textWords, type Candidate, type Term } from "../../lib/embed/fusion";
import { all } from "../../lib/sql";
import type { EmbedBacklog } from "./embeddings";
import { indexPending, ranked } from "./search";

export type { RecallAnswer, RecallRequest };

/** Each signal proposes this many entities (at least) to the fusion. */
const CANDIDATES = 30;

/** The query's words as FTS5 terms for the word index (`"word"`, or `"stem"*`). */
export function queryTerms(query: string): string[] {
  return ftsTerms(queryWords(query));
}

/** The words as terms of the word index's MATCH: quoted, a stem by prefix. */
function ftsTerms(words: Term[]): string[] {
  return words.map((t) => `"${t.word}"${t.prefix ? "*" : ""}`);
}

function wordHits(text: string, terms: Term[]): number {
  const words = textWords(text);
  return terms.filter((t) => holds(words, t)).length;
}

export async function recall(
  sql: SqlStorage,
  embeds: EmbedBacklog,
  spec: EmbedderSpec,
  req: RecallRequest,
): Promise<RecallAnswer> {
  const started = Date.now();
  indexPending(sql);
  const want = Math.max(CANDIDATES, req.limit * 3);
  const words = queryWords(req.query);
  const terms = ftsTerms(words);
  let fallback: string | undefined;

  const keyword: string[] = [];
  const keywordScore = new Map<string, number>();
  if (req.mode !== "semantic" && terms.length > 0) {
    for (const h of ranked(sql, "search_words", "word", req.namespace, terms.join(" OR "), want, new Set())) {
      keyword.push(h.name);
      keywordScore.set(h.name, -h.score);
    }
  }

  const semantic: string[] = [];
  const semanticScore = new Map<string, number>();
  const observationScore = new Map<number, number>();
  if (req.mode !== "keyword") {
    if (spec.kind === "off") fallback = `no embedder: ${spec.reason}`;
    else {
      try {
        const nearest = await embeds.nearestToQuery(spec, req.query, req.namespace, want * 8);
        const live = liveEntities(sql, req.namespace, [...new Set(nearest.map((n) => n.entity))]);
        const scores = entityScores(nearest, want * 8, observationScore, (e) => live.get(e)?.observed ?? false);
        for (const [rowid, score] of [...scores].sort((a, b) => b[1] - a[1])) {
          const entity = live.get(rowid);
          if (entity === undefined) continue;
          semantic.push(entity.name);
          semanticScore.set(entity.name, score);
          if (semantic.length === want) break;
        }
      } catch (e) {
        fallback = e instanceof EmbedError ? e.message : `the embedder failed: ${String(e)}`;
      }
    }
  }

  let order: [string, number][];
  const shares = new Map<string, number>();
  if (fallback !== undefined || req.mode === "keyword") order = keyword.map((n) => [n, keywordScore.get(n)!]);
  else if (req.mode === "semantic") order = semantic.map((n) => [n, semanticScore.get(n)!]);
  else order = fuse(sql, req.namespace, words, keyword, semanticScore, shares);

  const signalsOf = (name: string): RecallSignal[] => [
    ...(keywordScore.has(name) || (shares.get(name) ?? 0) > 0 ? (["keyword"] as const) : []),
    ...(semanticScore.has(name) && fallback === undefined ? (["semantic"] as const) : []),
  ];
  const { results, truncated } = shape(sql, req, order, signalsOf, words, observationScore);
  return {
    query: req.query,
    namespace: req.namespace,
    mode: req.mode,
    model: spec.kind === "off" ? null : spec.id,
    results,
    ...(fallback !== undefined && req.mode !== "keyword" ? { fallback: true as const, reason: fallback } : {}),
    ...(truncated ? { truncated } : {}),
    pending: embeds.pending(),
    took_ms: Date.now() - started,
  };
}

/**
 * Entities' semantic scores (by rowid) from the nearest vectors (even ids: entities, odd: observations).
 * When the index returned fewer than `asked` (it had no more), a part not among them has no vector;
 * otherwise it is below every returned score and counts as the lowest of them, unless it is the best
 * observation of an entity that has none (`observed` says which have).
 */
function entityScores(
  nearest: { id: number; entity: number; score: number }[],
  asked: number,
  observationScore: Map<number, number>,
  observed: (entity: number) => boolean,
): Map<number, number> {
  const own = new Map<number, number>();
  const best = new Map<number, number>();
  for (const n of nearest) {
    if (n.id % 2 === 0) own.set(n.entity, n.score);
    else {
      observationScore.set((n.id - 1) / 2, n.score);
      if (!best.has(n.entity) || best.get(n.entity)! < n.score) best.set(n.entity, n.score);
    }
  }
  const floor = nearest.length < asked ? undefined : Math.min(...nearest.map((n) => n.score));
  const scores = new Map<number, number>();
  for (const entity of new Set([...own.keys(), ...best.keys()])) {
    const bestObservation = best.get(entity) ?? (observed(entity) ? floor : undefined);
    scores.set(entity, entityScore(own.get(entity) ?? floor, bestObservation)!);
  }
  return scores;
}

/**
 * Hybrid order (lib/embed/fusion.ts): each entity either signal proposed, by its semantic score plus
 * the weighed share of the query's words it holds; an entity only the words found gets the lowest
 * semantic score among the candidates. `shares` receives the shares that counted.
 */
function fuse(
  sql: SqlStorage,
  ns: string,
  words: Term[],
  keyword: string[],
  semantic: Map<string, number>,
  shares: Map<string, number>,
): [string, number][] {
  const floor = semantic.size ? Math.min(...semantic.values()) : 0;
  const texts = entityTexts(sql, ns, [...new Set([...semantic.keys(), ...keyword])]);
  const candidates = new Map<string, Candidate>();
  for (const [name, text] of texts) candidates.set(name, { semantic: semantic.get(name) ?? floor, words: textWords(text) });
  const order: [string, number][] = [];
  for (const [name, { score, share }] of hybridScores(candidates, words)) {
    if (share > 0) shares.set(name, share);
    // Ties (no vectors yet) keep the word index's order.
    const rank = keyword.indexOf(name);
    order.push([name, score - (rank < 0 ? keyword.length : rank) * 1e-6]);
  }
  return order.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

/** The name, type and observations of the live entities `names` of namespace `ns`, as one text each. */
function entityTexts(sql: SqlStorage, ns: string, names: string[]): Map<string, string> {
  if (names.length === 0) return new Map();
  return new Map(
    sql
      .exec(
        `SELECT e.name, e.name || ' ' || e.entity_type || ' ' || coalesce((SELECT group_concat(o.content, ' ')
             FROM observations o WHERE o.ns = e.ns AND o.entity = e.name AND o.removed = 0), '')
           FROM entities e WHERE e.ns = ?1 AND e.name IN (SELECT value FROM json_each(?2)) AND e.deleted = 0`,
        ns,
        JSON.stringify(names),
      )
      .raw<[string, string]>(),
  );
}

/** The live entities among `rowids` in namespace `ns`: their names, and whether they have observations. */
function liveEntities(sql: SqlStorage, ns: string, rowids: number[]): Map<number, { name: string; observed: boolean }> {
  if (rowids.length === 0) return new Map();
  return new Map(
    [
      ...sql
        .exec(
          `SELECT e.rowid, e.name, EXISTS (SELECT 1 FROM observations o WHERE o.ns = e.ns AND o.entity = e.name AND o.removed = 0)
           FROM entities e WHERE e.rowid IN (SELECT value FROM json_each(?1)) AND e.ns = ?2 AND e.deleted = 0`,
          JSON.stringify(rowids),
          ns,
        )
        .raw<[number, string, number]>(),
    ].map(([rowid, name, observed]) => [rowid, { name, observed: observed === 1 }] as const),
  );
}

/** The answer's results: the first `limit` of `order`, each with its best observations, within the size cap. */
function shape(
  sql: SqlStorage,
  req: RecallRequest,
  order: [string, number][],
  signalsOf: (name: string) => RecallSignal[],
  terms: Term[],
  observationScore: Map<number, number>,
): { results: RecallResult[]; truncated?: NonNullable<RecallAnswer["truncated"]> } {
  const results: RecallResult[] = [];
  let chars = 0;
  let omittedResults = 0;
  let omittedObservations = 0;
  for (const [name, score] of order.slice(0, req.limit)) {
    const entity = all<{ entity_type: string }>(
      sql,
      "SELECT entity_type FROM entities WHERE ns = ? AND name = ? AND deleted = 0",
      req.namespace,
      name,
    )[0];
    if (!entity) continue;
    const observations = all<{ rowid: number; content: string }>(
      sql,
      "SELECT rowid, content FROM observations WHERE ns = ? AND entity = ? AND removed = 0 ORDER BY rowid",
      req.namespace,
      name,
    );
    const best = observations
      .map((o, i) => ({ o, i, s: (observationScore.get(o.rowid) ?? 0) + 0.05 * wordHits(o.content, terms) }))
      .sort((a, b) => b.s - a.s || a.i - b.i)
      .slice(0, RECALL_LIMITS.observations)
      .map((x) => x.o.content);
    const head = name.length + entity.entity_type.length;
    if (chars + head > RECALL_LIMITS.chars) {
      omittedResults++;
      continue;
    }
    chars += head;
    const shown: string[] = [];
    for (const text of best) {
      if (chars + text.length > RECALL_LIMITS.chars) break;
      chars += text.length;
      shown.push(text);
    }
    omittedObservations += best.length - shown.length;
    results.push({
      name,
      entityType: entity.entity_type,
      score: Math.round(score * 1e4) / 1e4,
      signals: signalsOf(name),
      observations: shown,
      observation_count: observations.length,
    });
  }
  const cut = omittedResults + omittedObservations > 0;
  return {
    results,
    ...(cut
      ? {
          truncated: {
            max_chars: RECALL_LIMITS.chars,
            omitted_results: omittedResults,
            omitted_observations: omittedObservations,
          },
        }
      : {}),
  };
}
