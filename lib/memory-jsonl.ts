/**
 * The JSONL memory file of the MCP reference memory server
 * (@modelcontextprotocol/server-memory): one JSON object a line,
 *   {"type":"entity","name":…,"entityType":…,"observations":[…]}
 *   {"type":"relation","from":…,"to":…,"relationType":…}
 * Parsing is strict (a bad line is an error naming its number) so an import
 * never half-happens; blank lines are skipped, as the reference does.
 */
import { z } from "zod";
import { LIMITS, type Entity, type Graph, type Relation } from "./graph-types";

const text = (max: number, what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(max, `${what} is longer than ${max} characters`);

/** Lines carry any number of observations (imports batch them); each one has the usual limit. */
const EntityLine = z.object({
  type: z.literal("entity"),
  name: text(LIMITS.name, "name"),
  entityType: text(LIMITS.type, "entityType"),
  observations: z
    .array(text(LIMITS.observation, "observation"), { error: "observations must be an array of strings" })
    .default([]),
});

const RelationLine = z.object({
  type: z.literal("relation"),
  from: text(LIMITS.name, "from"),
  to: text(LIMITS.name, "to"),
  relationType: text(LIMITS.type, "relationType"),
});

export interface ParsedMemory {
  /** In file order; a name may appear more than once (the import merges them). */
  entities: Entity[];
  relations: Relation[];
  /** Non-blank lines read. */
  lines: number;
}

export type ParseOutcome = ({ ok: true } & ParsedMemory) | { ok: false; line: number; error: string };

function describe(issues: z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 3)
    .map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message))
    .join("; ");
}

/** Parses one line (already known to be non-blank); the error names the problem, not the line. */
function parseLine(line: string): { entity: Entity } | { relation: Relation } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    return { error: `not valid JSON: ${(e as Error).message}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { error: "expected a JSON object" };
  const type = (value as { type?: unknown }).type;
  if (type === "entity") {
    const r = EntityLine.safeParse(value);
    if (!r.success) return { error: `entity: ${describe(r.error.issues)}` };
    return { entity: { name: r.data.name, entityType: r.data.entityType, observations: r.data.observations } };
  }
  if (type === "relation") {
    const r = RelationLine.safeParse(value);
    if (!r.success) return { error: `relation: ${describe(r.error.issues)}` };
    return { relation: { from: r.data.from, to: r.data.to, relationType: r.data.relationType } };
  }
  return { error: `"type" must be "entity" or "relation", got ${JSON.stringify(type) ?? "nothing"}` };
}

/** Parses a whole memory file; the first bad line stops it. A leading BOM and CRLF line ends are fine. */
export function parseMemoryJsonl(input: string): ParseOutcome {
  const source = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const entities: Entity[] = [];
  const relations: Relation[] = [];
  let lines = 0;
  let start = 0;
  for (let n = 1; start <= source.length; n++) {
    let end = source.indexOf("\n", start);
    if (end === -1) end = source.length;
    const line = source.slice(start, end);
    start = end + 1;
    if (line.trim() === "") continue;
    lines++;
    const r = parseLine(line);
    if ("error" in r) {
      // `curl -d @file` strips the newlines: say so instead of only "bad JSON".
      const hint =
        n === 1 && /\}\s*\{/.test(line)
          ? " (several objects on one line: were the newlines stripped? use curl --data-binary)"
          : "";
      return { ok: false, line: n, error: r.error + hint };
    }
    if ("entity" in r) entities.push(r.entity);
    else relations.push(r.relation);
  }
  return { ok: true, entities, relations, lines };
}

/** One line of the file, with the reference server's key order. */
export function entityLine(e: Entity): string {
  return JSON.stringify({ type: "entity", name: e.name, entityType: e.entityType, observations: e.observations });
}

export function relationLine(r: Relation): string {
  return JSON.stringify({ type: "relation", from: r.from, to: r.to, relationType: r.relationType });
}

/** The graph as a memory file: entities, then relations, each line ending in "\n". */
export function toMemoryJsonl(graph: Graph): string {
  const out: string[] = [];
  for (const e of graph.entities) out.push(entityLine(e), "\n");
  for (const r of graph.relations) out.push(relationLine(r), "\n");
  return out.join("");
}

/** What POST /memory/import answers. */
export interface ImportCounts {
  entities: number;
  observations: number;
  relations: number;
}
export interface ImportResult {
  namespace: string;
  imported: ImportCounts;
  skipped: ImportCounts;
  lines: number;
}

export const MEMORY_JSONL_TYPE = "application/x-ndjson; charset=utf-8";
