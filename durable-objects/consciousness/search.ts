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
 * Asks each FTS table of `index` for its best rows (bm25 with a LIMIT, so
 * SQLite keeps only the top of the list), then keeps the live ones of this
 * namespace not already `found`, best score per entity. Widens the window
 * while other namespaces, dead rows or earlier tiers crowd it out. (Small
 * statements: one query joining it all measured slower.)
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
  const best = new Map<string, number>();
  const keep = (name: string, score: number) => {
    if (found.has(name)) return;
    const prev = best.get(name);
    if (prev === undefined || score < prev) best.set(name, score);
  };
  for (let window = (limit + found.size) * 4; ; window *= 8) {
    best.clear();
    const fromObservations = topRows(sql, index.observations, phrase, window);
    if (fromObservations.size > 0) {
      for (const o of all<{ rowid: number; entity: string }>(
        sql,
        // CROSS JOIN fixes the order: look the hits up by rowid, never scan the namespace.
        `SELECT o.rowid AS rowid, o.entity AS entity FROM json_each(?) j
          CROSS JOIN observations o ON o.rowid = j.value
          CROSS JOIN entities e ON e.ns = o.ns AND e.name = o.entity
         WHERE o.ns = ? AND o.removed = 0 AND e.deleted = 0`,
        JSON.stringify([...fromObservations.keys()]),
        ns,
      )) {
        keep(o.entity, fromObservations.get(o.rowid)!);
      }
    }
    // Names weigh twice what types do.
    const fromEntities = topRows(sql, index.entities, phrase, window, "2.0, 1.0");
    if (fromEntities.size > 0) {
      for (const e of all<{ rowid: number; name: string }>(
        sql,
        "SELECT e.rowid AS rowid, e.name AS name FROM json_each(?) j CROSS JOIN entities e ON e.rowid = j.value WHERE e.ns = ? AND e.deleted = 0",
        JSON.stringify([...fromEntities.keys()]),
        ns,
      )) {
        keep(e.name, fromEntities.get(e.rowid)!);
      }
    }
    const exhausted = fromObservations.size < window && fromEntities.size < window;
    if (best.size >= limit || exhausted) break;
  }
  return [...best]
    .map(([name, score]) => ({ name, score, match }))
    .sort((a, b) => a.score - b.score || (a.name < b.name ? -1 : 1));
}

/** rowid → bm25 of the `window` best rows of an FTS5 table (column weights optional). */
function topRows(sql: SqlStorage, table: string, phrase: string, window: number, weights = ""): Map<number, number> {
  const rows = all<{ rowid: number; score: number }>(
    sql,
    `SELECT rowid, bm25(${table}${weights ? `, ${weights}` : ""}) AS score FROM ${table} WHERE ${table} MATCH ? ORDER BY score LIMIT ?`,
    phrase,
    window,
  );
  return new Map(rows.map((r) => [r.rowid, r.score]));
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
