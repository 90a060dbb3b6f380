/**
 * How recall scores an entity from its two signals (measured on the labelled
 * set by bench/recall.ts; docs/recall.md has the figures):
 *   - semantic: the mean of the cosine of the entity's own vector (name, type,
 *     observations) and that of its best observation's vector; the whole and
 *     the one fact that answers both count;
 *   - hybrid: the semantic score plus KEYWORD_WEIGHT times the share of the
 *     query's words that the entity holds, each word weighed by its rarity
 *     (idf). A query whose words an entity does not hold adds nothing, so
 *     words that find nothing cannot push a semantic match down, and a common
 *     word moves little; an entity that holds the query's rare words rises.
 *     An entity holding less than SHARE_FLOOR of the (weighed) words gets
 *     nothing from them.
 *     Reciprocal rank fusion and raw bm25 sums were measured and lost: both let
 *     an entity sharing one word with the question outrank the meaning's answer.
 */

/** What holding every word of the query adds to an entity's semantic score in hybrid mode. */
export const KEYWORD_WEIGHT = 0.3;
/** A share of the query's words below this adds nothing: one common word of a long question is no evidence. */
export const SHARE_FLOOR = 0.25;

/** An entity's semantic score from its own vector's cosine and its best observation's (either may be unknown). */
export function entityScore(own: number | undefined, bestObservation: number | undefined): number | undefined {
  if (own === undefined) return bestObservation;
  if (bestObservation === undefined) return own;
  return (own + bestObservation) / 2;
}

/** A query word as the fusion matches it: the whole word, or a stem that begins longer forms. */
export interface Term {
  word: string;
  prefix: boolean;
}

const STOP_WORDS = new Set(
  (
    "a about above after again all also am an and any are as at be because been before being below between both but by " +
    "can could did do does doing done down during each few for from further get gets got had has have having he her here " +
    "how i if in into is it its itself just let me more most my no nor not now of off on once only or other our out over " +
    "own same she should so some such than that the their them then there these they this those through to too under " +
    "until up us use used uses using very via was we were what when where which while who whom why will with would you your"
  ).split(" "),
);

/** The query's words: lower case, no stop words, each once; a long word's plain ending is cut and the stem matches by prefix. */
export function queryWords(query: string): Term[] {
  const words = query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const terms = new Map<string, Term>();
  for (const w of words) {
    if (STOP_WORDS.has(w) || (w.length < 2 && !/\d/.test(w))) continue;
    const stem = w.length > 5 ? w.replace(/(ings?|ers?|ed|es|s)$/, "") : w;
    const term = stem.length >= 4 && stem !== w ? { word: stem, prefix: true } : { word: w, prefix: false };
    terms.set(`${term.word}${term.prefix ? "*" : ""}`, term);
  }
  return [...terms.values()];
}

/** The words of a text for matching: lower case, CamelCase names split too ("InvoiceRenderer" gives invoicerenderer, invoice, renderer). */
export function textWords(text: string): Set<string> {
  const words = new Set<string>();
  for (const token of text.match(/[\p{L}\p{N}]+/gu) ?? []) {
    words.add(token.toLowerCase());
    for (const part of token.match(/\p{Lu}+(?!\p{Ll})|\p{Lu}?\p{Ll}+|\p{N}+/gu) ?? []) words.add(part.toLowerCase());
  }
  return words;
}

export function holds(words: Set<string>, term: Term): boolean {
  if (!term.prefix) return words.has(term.word);
  for (const w of words) if (w.startsWith(term.word)) return true;
  return false;
}

/** An entity the hybrid fusion ranks: its semantic score and the words of its name, type and observations. */
export interface Candidate {
  semantic: number;
  words: Set<string>;
}

/**
 * Hybrid scores of the candidates (those either signal proposed): semantic + KEYWORD_WEIGHT * the share
 * of the query's terms each holds, a term weighing ln((n + 1) / (holders + 0.5)) among the n candidates
 * (at least 0.1): a word most candidates hold tells them apart little. A share below SHARE_FLOOR counts
 * as none. Returns each one's score and the share that counted.
 */
export function hybridScores<K>(candidates: Map<K, Candidate>, terms: readonly Term[]): Map<K, { score: number; share: number }> {
  const n = candidates.size;
  const held = terms.map((t) => new Set([...candidates].filter(([, c]) => holds(c.words, t)).map(([k]) => k)));
  const weights = held.map((h) => Math.max(0.1, Math.log((n + 1) / (h.size + 0.5))));
  const total = weights.reduce((s, w) => s + w, 0);
  const out = new Map<K, { score: number; share: number }>();
  for (const [k, c] of candidates) {
    const found = total > 0 ? held.reduce((s, h, i) => s + (h.has(k) ? weights[i]! : 0), 0) / total : 0;
    const share = found >= SHARE_FLOOR ? found : 0;
    out.set(k, { score: c.semantic + KEYWORD_WEIGHT * share, share });
  }
  return out;
}
