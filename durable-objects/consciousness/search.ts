/**
 * search_nodes: which entities of a namespace match a query, best first.
 *
 * The result set is the reference server's: a case-insensitive substring match
 * over entity names, types and observation text. The order is ours, in two
 * tiers:
 *   1. whole-word matches, from a word index (FTS5 unicode61), ranked by bm25;
 *   2. then the remaining substring matches, from a trigram index (FTS5
 *      trigram; a scan for queries shorter than three characters), ranked by
 *      bm25 over trigrams.
 * A query that is one word and has `limit` whole-word matches never touches
 * the trigram index, whose lists are long; that is what keeps search fast as
 * the store grows. The indexes hold every namespace and are kept in step with
 * their tables by triggers (schema.ts).
 */
import { all } from "../../lib/sql";

export interface Hit {
  name: string;
  /** bm25 within its tier: lower is better (FTS5's sign); 0 for scan matches. */
  score: number;
  match: "word" | "substring";
}

interface Index {
  /** FTS5 table holding observation text, keyed by the observations table's rowid. */
  observations: string;
  /** FTS5 table holding entity (name, type), keyed by the entities table's rowid. */
  entities: string;
}

const WORDS: Index = { observations: "observations_words", entities: "entities_words" };
const TRIGRAMS: Index = { observations: "observations_fts", entities: "entities_fts" };

/** One unicode61 token: letters, digits and private-use characters, as FTS5 splits words. */
const ONE_WORD = /^[\p{L}\p{N}\p{Co}]+$/u;

export function searchEntities(sql: SqlStorage, ns: string, query: string, limit: number): Hit[] {
  const hits: Hit[] = [];
  const found = new Set<string>();
  const add = (tier: Hit[]) => {
    for (const h of tier.slice(0, limit - hits.length)) {
      hits.push(h);
      found.add(h.name);
    }
  };
  const phrase = `"${query.replace(/"/g, '""')}"`;
  if (ONE_WORD.test(query)) add(ranked(sql, WORDS, "word", ns, phrase, limit, found));
  if (hits.length < limit) {
    const rest = limit - hits.length;
    add([...query].length >= 3 ? ranked(sql, TRIGRAMS, "substring", ns, phrase, rest, found) : scan(sql, ns, query, rest, found));
  }
  return hits;
}

/**
 * Asks both FTS tables of `index` for their best rows (bm25 with a LIMIT, so
 * SQLite keeps only the top of each list), keeps the live ones of this
 * namespace, best score per entity, and drops those already `found`. Widens
 * the window while other namespaces, dead rows or earlier tiers crowd it out.
 * One statement per window: its first row says how full the fuller list was.
 */
function ranked(
  sql: SqlStorage,
  index: Index,
  match: Hit["match"],
  ns: string,
  phrase: string,
  limit: number,
  found: Set<string>,
): Hit[] {
  const query = rankedQuery(index);
  for (let window = (limit + found.size) * 4; ; window *= 8) {
    const [head, ...rows] = all<{ name: string; score: number }>(sql, query, phrase, window, ns);
    const hits = rows.filter((r) => !found.has(r.name));
    if (hits.length >= limit || head!.score < window) {
      return hits
        .map((r) => ({ name: r.name, score: r.score, match }))
        .sort((a, b) => a.score - b.score || (a.name < b.name ? -1 : 1));
    }
  }
}

const rankedQueries = new Map<Index, string>();
function rankedQuery(index: Index): string {
  let q = rankedQueries.get(index);
  if (!q) {
    const { observations: o, entities: e } = index;
    // CROSS JOIN fixes the order: look the hits up by rowid, never scan the namespace. Names weigh
    // twice what types do.
    q = `WITH
      top_o AS MATERIALIZED (SELECT rowid, bm25(${o}) AS score FROM ${o} WHERE ${o} MATCH ?1 ORDER BY score LIMIT ?2),
      top_e AS MATERIALIZED (SELECT rowid, bm25(${e}, 2.0, 1.0) AS score FROM ${e} WHERE ${e} MATCH ?1 ORDER BY score LIMIT ?2),
      hits AS (
        SELECT ob.entity AS name, t.score AS score FROM top_o t
          CROSS JOIN observations ob ON ob.rowid = t.rowid
          CROSS JOIN entities en ON en.ns = ob.ns AND en.name = ob.entity
         WHERE ob.ns = ?3 AND ob.removed = 0 AND en.deleted = 0
        UNION ALL
        SELECT en.name, t.score FROM top_e t CROSS JOIN entities en ON en.rowid = t.rowid WHERE en.ns = ?3 AND en.deleted = 0)
      SELECT NULL AS name, max((SELECT count(*) FROM top_o), (SELECT count(*) FROM top_e)) AS score
      UNION ALL
      SELECT name, min(score) FROM hits GROUP BY name`;
    rankedQueries.set(index, q);
  }
  return q;
}

/** Queries shorter than a trigram: a scan of the namespace, in name order. */
function scan(sql: SqlStorage, ns: string, query: string, limit: number, found: Set<string>): Hit[] {
  const q = query.toLowerCase();
  return all<{ name: string }>(
    sql,
    `SELECT e.name AS name FROM entities e
      WHERE e.ns = ?1 AND e.deleted = 0 AND e.name NOT IN (SELECT value FROM json_each(?4)) AND (
        instr(lower(e.name), ?2) > 0 OR instr(lower(e.entity_type), ?2) > 0 OR EXISTS (
          SELECT 1 FROM observations o WHERE o.ns = ?1 AND o.entity = e.name AND o.removed = 0 AND instr(lower(o.content), ?2) > 0))
      ORDER BY e.name LIMIT ?3`,
    ns,
    q,
    limit,
    JSON.stringify([...found]),
  ).map((r) => ({ name: r.name, score: 0, match: "substring" }));
}
