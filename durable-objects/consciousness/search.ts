/**
 * search_nodes: which entities of a namespace match a query, best first.
 *
 * The result set is the reference server's: a case-insensitive substring match
 * over entity names, types and observation text. The order is ours, in two
 * tiers:
 *   1. whole-word matches, from a word index (FTS5 unicode61), ranked by bm25;
 *   2. then the remaining substring matches, ranked by bm25 within the tier.
 *      For a query of ASCII letters and digits (almost every query: "jwt",
 *      "postgres") they are the rows holding a longer word that contains it:
 *      the list of indexed words keeps every ending of each word, so those
 *      words are one B-tree range away ("gres" starts the endings "gresql" and
 *      "gress"), and the word index gives their rows. Other queries, and the
 *      rare one held by more than MAX_LONGER_WORDS words, use a trigram index
 *      of every row (FTS5 trigram); queries shorter than three characters, a
 *      scan.
 * The trigram index, whose lists are long, is read only in those cases, and
 * never by a one-word query with `limit` whole-word matches: that is what
 * keeps search fast as the store grows.
 *
 * Each index is one FTS5 table holding entities (name, type) and observations
 * (body) of every namespace, so a tier is one index query. Its rowids encode
 * the row: entity rowid r is 2r, observation rowid r is 2r + 1.
 *
 * Indexing is batched. Triggers (schema.ts) queue every row written in
 * `search_pending`, and unindex rows that are removed; `indexPending` moves
 * the queue into both indexes at once, and adds the batch's new words (with
 * their endings) to the list of words. One FTS5 insert of many rows costs a
 * fraction of one insert per row (each transaction that touches an FTS5 table
 * writes a new segment of it), so writes do not pay for search. Search runs
 * `indexPending` first, so it always sees every write; the state object also
 * runs it shortly after writes (consciousness-state.ts).
 */
import { SEARCH_COMPACT_IDLE_MS } from "../../lib/graph-types";
import { all, limit as rows, one } from "../../lib/sql";
import { queueForEmbedding } from "./embed-queue";
import { termEndings } from "./schema";

export interface Hit {
  name: string;
  /** bm25 within its tier: lower is better (FTS5's sign); 0 for scan matches. */
  score: number;
  match: "word" | "substring";
}

const WORDS = "search_words";
const TRIGRAMS = "search_trigrams";
/** bm25 column weights (name, type, body): a name counts twice a type or an observation. */
const WEIGHTS = "2.0, 1.0, 1.0";

/** One unicode61 token: letters, digits and private-use characters, as FTS5 splits words. */
const ONE_WORD = /^[\p{L}\p{N}\p{Co}]+$/u;
/**
 * A query whose every match lies inside one word of the word index (letters and digits only), and
 * whose case folding is plain ASCII, as the index's: its longer words come from search_term_endings.
 */
const ASCII_WORD = /^[a-z0-9]+$/i;
/** One batch being indexed, to read its words from (search_batch_terms is its vocabulary). */
const BATCH = "search_batch";
/** More longer words than this containing a query: its substring matches come from the trigram index of rows. */
const MAX_LONGER_WORDS = 64;

const QUEUED = (table: string) =>
  `INSERT INTO ${table} (rowid, name, type, body)
     SELECT p.id, e.name, e.entity_type, NULL FROM search_pending p CROSS JOIN entities e ON e.rowid = p.id >> 1
      WHERE p.id & 1 = 0 AND e.deleted = 0
     UNION ALL
     SELECT p.id, NULL, NULL, o.content FROM search_pending p CROSS JOIN observations o ON o.rowid = p.id >> 1
      WHERE p.id & 1 = 1 AND o.removed = 0`;

/** Indexes the queued rows in both indexes; returns how many were queued. Cheap when none are. */
export function indexPending(sql: SqlStorage): number {
  const queued = one<{ n: number }>(sql, "SELECT count(*) AS n FROM search_pending")!.n;
  if (queued === 0) return 0;
  queueForEmbedding(sql);
  sql.exec(QUEUED(WORDS));
  sql.exec(QUEUED(TRIGRAMS));
  // The batch's words, as the word index split them, join the list of words (new ones only).
  sql.exec(QUEUED(BATCH));
  const known = one<{ n: number | null }>(sql, "SELECT max(id) AS n FROM search_terms")!.n ?? 0;
  sql.exec("INSERT OR IGNORE INTO search_terms (term) SELECT term FROM search_batch_terms");
  sql.exec(termEndings("?"), known);
  sql.exec(`INSERT INTO ${BATCH} (${BATCH}) VALUES ('delete-all')`);
  sql.exec("DELETE FROM search_pending");
  return queued;
}

export function searchEntities(sql: SqlStorage, ns: string, query: string, limit: number): Hit[] {
  indexPending(sql);
  const hits: Hit[] = [];
  const found = new Set<string>();
  const add = (tier: Hit[]) => {
    for (const h of tier.slice(0, limit - hits.length)) {
      hits.push(h);
      found.add(h.name);
    }
  };
  const phrase = quote(query);
  if (ONE_WORD.test(query)) add(ranked(sql, WORDS, "word", ns, phrase, limit, found));
  if (hits.length < limit) {
    const rest = limit - hits.length;
    if ([...query].length < 3) add(scan(sql, ns, query, rest, found));
    else {
      const terms = ASCII_WORD.test(query) ? longerWords(sql, query.toLowerCase()) : undefined;
      if (!terms) add(ranked(sql, TRIGRAMS, "substring", ns, phrase, rest, found));
      else if (terms.length > 0) add(ranked(sql, WORDS, "substring", ns, terms.map(quote).join(" OR "), rest, found));
    }
  }
  return hits;
}

const quote = (text: string) => `"${text.replace(/"/g, '""')}"`;

/**
 * The indexed words longer than `word` (lower-case ASCII) that contain it: those with an ending that
 * starts with it. Undefined when there are more than MAX_LONGER_WORDS (a short, common piece of words),
 * which the trigram index of rows answers better.
 */
function longerWords(sql: SqlStorage, word: string): string[] | undefined {
  // A word holding `word` twice has two such endings: the set keeps it once. A full window may
  // have left words out: those go to the trigram index too.
  const terms = new Set<string>();
  let endings = 0;
  for (const [term] of sql
    .exec(
      `SELECT t.term FROM search_term_endings e CROSS JOIN search_terms t ON t.id = e.id
        WHERE e.ending >= ?1 AND e.ending < ?1 || char(1114111) AND t.term <> ?1 LIMIT ${rows(2 * MAX_LONGER_WORDS)}`,
      word,
    )
    .raw<[string]>()) {
    terms.add(term);
    endings++;
  }
  return terms.size > MAX_LONGER_WORDS || endings === 2 * MAX_LONGER_WORDS ? undefined : [...terms];
}

/**
 * Asks the index for its best rows (bm25 with a LIMIT, so SQLite keeps only
 * the top of the list), then keeps the live ones of this namespace not already
 * `found`, best score per entity. Widens the window while other namespaces,
 * dead rows or earlier tiers crowd it out.
 */
export function ranked(
  sql: SqlStorage,
  table: string,
  match: Hit["match"],
  ns: string,
  phrase: string,
  limit: number,
  found: Set<string>,
): Hit[] {
  const best = new Map<string, number>();
  for (let window = (limit + found.size) * 4; ; window *= 8) {
    best.clear();
    // One statement: the index's best rows, each with the name of its live entity in this namespace
    // (NULL for rows of other namespaces or dead ones), looked up by rowid. Every row the index gave
    // comes back, so their number tells whether the window was full and must widen.
    let top = 0;
    for (const [score, name] of sql
      .exec(
        `SELECT t.score, CASE t.id & 1
           WHEN 0 THEN (SELECT e.name FROM entities e WHERE e.rowid = t.id >> 1 AND e.ns = ?2 AND e.deleted = 0)
           ELSE (SELECT o.entity FROM observations o CROSS JOIN entities e ON e.ns = o.ns AND e.name = o.entity
                  WHERE o.rowid = t.id >> 1 AND o.ns = ?2 AND o.removed = 0 AND e.deleted = 0) END
         FROM (SELECT rowid AS id, bm25(${table}, ${WEIGHTS}) AS score FROM ${table} WHERE ${table} MATCH ?1
                ORDER BY score LIMIT ${rows(window)}) t`,
        phrase,
        ns,
      )
      .raw<[number, string | null]>()) {
      top++;
      if (name === null || found.has(name)) continue;
      const prev = best.get(name);
      if (prev === undefined || score < prev) best.set(name, score);
    }
    if (best.size >= limit || top < window) break;
  }
  return [...best]
    .map(([name, score]) => ({ name, score, match }))
    .sort((a, b) => a.score - b.score || (a.name < b.name ? -1 : 1));
}

/** Queries shorter than a trigram: a scan of the namespace, in name order. */
function scan(sql: SqlStorage, ns: string, query: string, limit: number, found: Set<string>): Hit[] {
  const q = query.toLowerCase();
  return all<{ name: string }>(
    sql,
    `SELECT e.name AS name FROM entities e
      WHERE e.ns = ?1 AND e.deleted = 0 AND e.name NOT IN (SELECT value FROM json_each(?3)) AND (
        instr(lower(e.name), ?2) > 0 OR instr(lower(e.entity_type), ?2) > 0 OR EXISTS (
          SELECT 1 FROM observations o WHERE o.ns = ?1 AND o.entity = e.name AND o.removed = 0 AND instr(lower(o.content), ?2) > 0))
      ORDER BY e.name LIMIT ${rows(limit)}`,
    ns,
    q,
    JSON.stringify([...found]),
  ).map((r) => ({ name: r.name, score: 0, match: "substring" }));
}

/** Pages (about 4 KB each) of merged index one compaction step writes: a few milliseconds of work. */
const MERGE_PAGES = 64;

/**
 * Merges index segments while the store is idle. Every indexed batch adds a segment, and a query
 * reads every segment of its index. FTS5 merges the segments of a level once it holds four, but
 * only a little with each write (automerge), in proportion to what the write added: small batches
 * leave merges undone, and a store written a little at a time piles up to sixteen segments on one
 * level before FTS5 forces a merge. Compaction does those merges, with FTS5's own policy, once
 * writes stop: an idle index keeps at most three segments per level, and each row is rewritten no
 * more often than FTS5 would rewrite it anyway (merging everything into one segment instead would
 * rewrite the whole index after every burst of writes). It runs FTS5 'merge' in bounded steps,
 * one event each, so a request waits for one step at most; a write batch restarts it once the
 * store is idle again.
 */
export class IndexCompaction {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private table = 0;

  constructor(
    private readonly sql: SqlStorage,
    /** Runs a step in a transaction of its own. */
    private readonly transaction: (fn: () => void) => void,
  ) {}

  /** After a batch was indexed: compact once no other batch came for SEARCH_COMPACT_IDLE_MS. */
  afterBatch(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.table = 0;
    this.timer = setTimeout(() => this.step(), SEARCH_COMPACT_IDLE_MS);
  }

  private step(): void {
    this.timer = undefined;
    const table = [WORDS, TRIGRAMS][this.table];
    if (!table) return;
    let worked = false;
    try {
      this.transaction(() => {
        const before = totalChanges(this.sql);
        this.sql.exec(`INSERT INTO ${table} (${table}, rank) VALUES ('merge', ?)`, MERGE_PAGES);
        // FTS5 changes at least two rows when a merge step did some work (its documentation).
        worked = totalChanges(this.sql) - before >= 2;
      });
    } catch (e) {
      console.error(JSON.stringify({ level: "error", msg: "search index compaction failed", table, error: String(e) }));
      return;
    }
    if (!worked) this.table++;
    this.timer = setTimeout(() => this.step(), 0);
  }
}

function totalChanges(sql: SqlStorage): number {
  return one<{ n: number }>(sql, "SELECT total_changes() AS n")!.n;
}
