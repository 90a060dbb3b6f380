/**
 * Recall: a question in words, answered by the memory's `recall` tool when the
 * stack has one, else by `search_nodes` (which matches words literally), and
 * the answer says which. Results are shaped once, for a quick pick, a
 * read-only document and text to insert.
 */
import { MEMORY_LIMITS } from "./limits";
import type { McpClient } from "./mcp";

export interface RecallHit {
  name: string;
  entityType?: string;
  namespace?: string;
  score?: number;
  observations: string[];
  /** Which signals found it (e.g. keyword, semantic), when recall says. */
  foundBy?: string[];
}

export interface RecallAnswer {
  via: "recall" | "search_nodes";
  hits: RecallHit[];
  /** Said to the user when the answer is not the memory's recall. */
  note?: string;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v ? v : undefined);

function observationText(o: unknown): string | undefined {
  if (typeof o === "string") return o;
  if (o && typeof o === "object") {
    const r = o as Record<string, unknown>;
    return str(r["content"]) ?? str(r["text"]) ?? str(r["observation"]);
  }
  return undefined;
}

function stringList(v: unknown): string[] | undefined {
  if (Array.isArray(v)) {
    const list = v.filter((x): x is string => typeof x === "string");
    return list.length ? list : undefined;
  }
  if (v && typeof v === "object") {
    // { keyword: 0.4, semantic: 0.8 } style: the names of the signals that found it
    const keys = Object.keys(v);
    return keys.length ? keys : undefined;
  }
  return undefined;
}

/** One ranked entity, from whatever shape the stack's recall gives it (entity fields inline or under `entity`). */
export function hitOf(raw: unknown): RecallHit | undefined {
  if (!raw || typeof raw !== "object") return undefined;
  const r = raw as Record<string, unknown>;
  const e = (r["entity"] && typeof r["entity"] === "object" ? r["entity"] : r) as Record<string, unknown>;
  const name = str(e["name"]) ?? str(r["name"]);
  if (!name) return undefined;
  const obsSource = r["observations"] ?? r["best_observations"] ?? e["observations"];
  const observations = Array.isArray(obsSource) ? obsSource.map(observationText).filter((x): x is string => !!x) : [];
  const score = typeof r["score"] === "number" ? r["score"] : undefined;
  const hit: RecallHit = { name, observations };
  const entityType = str(e["entityType"]) ?? str(e["entity_type"]) ?? str(r["entityType"]);
  if (entityType) hit.entityType = entityType;
  const namespace = str(r["namespace"]) ?? str(e["namespace"]);
  if (namespace) hit.namespace = namespace;
  if (score !== undefined) hit.score = score;
  const foundBy = stringList(r["signals"] ?? r["found_by"] ?? r["matched_by"] ?? r["sources"]);
  if (foundBy) hit.foundBy = foundBy;
  return hit;
}

/** The ranked list inside a recall answer: `results`, `entities`, `hits` or `matches`. */
export function hitsOf(answer: unknown): RecallHit[] {
  if (!answer || typeof answer !== "object") return [];
  const a = answer as Record<string, unknown>;
  const list = [a["results"], a["entities"], a["hits"], a["matches"]].find(Array.isArray) as unknown[] | undefined;
  return (list ?? []).map(hitOf).filter((h): h is RecallHit => !!h);
}

const STOP = new Set(
  "a an and are as at be but by can did do does for from had has have how i in is it its me my of on or our so that the their them then there these they this to was we were what when where which who why will with you your".split(
    " ",
  ),
);

/** The words of a question worth searching for literally (no stop words, at least three letters), at most `max`. */
export function keywords(query: string, max = 6): string[] {
  const words = query
    .toLowerCase()
    .split(/[^\p{L}\p{N}_-]+/u)
    .filter((w) => w.length >= 3 && !STOP.has(w));
  return [...new Set(words)].slice(0, max);
}

interface GraphEntity {
  name: string;
  entityType?: string;
  observations?: string[];
}

async function searchNodes(mcp: McpClient, query: string, namespace: string | undefined): Promise<GraphEntity[]> {
  const args: Record<string, unknown> = { query };
  if (namespace) args["namespace"] = namespace;
  const body = (await mcp.callTool("search_nodes", args)) as { entities?: GraphEntity[] };
  return Array.isArray(body.entities) ? body.entities : [];
}

/**
 * Without recall: the whole question as search_nodes' substring first (when
 * search_nodes takes a query that long); if that finds nothing, each keyword,
 * ranked by how many keywords found the entity.
 */
async function searchFallback(mcp: McpClient, query: string, namespace: string | undefined, limit: number): Promise<RecallHit[]> {
  const whole = query.length <= MEMORY_LIMITS.searchQuery ? await searchNodes(mcp, query, namespace) : [];
  const toHit = (e: GraphEntity, foundBy: string): RecallHit => ({
    name: e.name,
    ...(e.entityType ? { entityType: e.entityType } : {}),
    observations: Array.isArray(e.observations) ? e.observations : [],
    foundBy: [foundBy],
  });
  if (whole.length) return whole.slice(0, limit).map((e) => toHit(e, "the whole question"));
  const words = keywords(query);
  const found = new Map<string, { e: GraphEntity; n: number }>();
  for (const w of words) {
    for (const e of await searchNodes(mcp, w, namespace)) {
      const f = found.get(e.name);
      if (f) f.n += 1;
      else found.set(e.name, { e, n: 1 });
    }
  }
  return [...found.values()]
    .sort((a, b) => b.n - a.n || a.e.name.localeCompare(b.e.name))
    .slice(0, limit)
    .map(({ e, n }) => toHit(e, `${n} of ${words.length} words`));
}

export async function recall(mcp: McpClient, query: string, namespace: string | undefined, limit = 20): Promise<RecallAnswer> {
  if (await mcp.hasTool("recall")) {
    const args: Record<string, unknown> = { query, limit };
    if (namespace) args["namespace"] = namespace;
    return { via: "recall", hits: hitsOf(await mcp.callTool("recall", args)).slice(0, limit) };
  }
  return {
    via: "search_nodes",
    hits: await searchFallback(mcp, query, namespace, limit),
    note: "This stack's memory has no recall yet: searched with search_nodes, which matches words literally.",
  };
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const oneLine = (s: string) => s.replace(/\s+/g, " ").trim();

/**
 * A score with `decimals` decimals; one below 0.1 (reciprocal rank fusion gives about 0.016) with
 * two significant digits instead, so scores stay apart and none reads as "0.00".
 */
export function formatScore(score: number, decimals: number): string {
  return score === 0 || Math.abs(score) >= 0.1 ? score.toFixed(decimals) : score.toPrecision(2);
}

/** A quick pick row: the entity, its type, how it was found, and its best observation. */
export function pickItem(hit: RecallHit): { label: string; description: string; detail: string } {
  // A score of 0 (the word index alone, with one entity to rank) says nothing; which signal found it does.
  const how =
    hit.score !== undefined && (hit.score > 0 || !hit.foundBy?.length)
      ? `score ${formatScore(hit.score, 2)}`
      : hit.foundBy?.length
        ? `matched ${hit.foundBy.join(", ")}`
        : undefined;
  const desc = [hit.entityType, hit.namespace && `in ${hit.namespace}`, how].filter(Boolean).join(" · ");
  const first = hit.observations[0];
  return {
    label: hit.name,
    description: desc,
    detail: first ? clip(oneLine(first), 200) : "(no observations)",
  };
}

/** The read-only document shown for a chosen result (Markdown). */
export function hitDocument(hit: RecallHit, query: string, via: RecallAnswer["via"]): string {
  const facts = [
    hit.entityType && `type *${hit.entityType}*`,
    hit.namespace && `namespace *${hit.namespace}*`,
    hit.score !== undefined && `score ${formatScore(hit.score, 3)}`,
    hit.foundBy?.length && `found by ${hit.foundBy.join(", ")}`,
  ].filter(Boolean);
  const lines = [`# ${hit.name}`, ""];
  if (facts.length) lines.push(facts.join(" · "), "");
  lines.push(
    `Recalled for “${query}” (${via === "recall" ? "the memory's recall" : "search_nodes"}).`,
    "",
    "## Observations",
    "",
  );
  if (!hit.observations.length) lines.push("(none)");
  for (const o of hit.observations) lines.push(`- ${o.replace(/\n/g, "\n  ")}`);
  return `${lines.join("\n")}\n`;
}

/** What "insert" puts at the cursor: the observations, one per line. */
export function hitInsertText(hit: RecallHit): string {
  return hit.observations.join("\n");
}

/**
 * Where "insert" writes: the editor Recall… was started from while it is
 * still open, else the active one (that editor was closed meanwhile), else
 * none. `moved` says the text goes elsewhere than where the command started.
 */
export function insertionTarget<E>(
  started: E | undefined,
  visible: readonly E[],
  active: E | undefined,
): { editor: E; moved: boolean } | undefined {
  if (started !== undefined && visible.includes(started)) return { editor: started, moved: false };
  if (active !== undefined) return { editor: active, moved: started !== undefined && started !== active };
  return undefined;
}
