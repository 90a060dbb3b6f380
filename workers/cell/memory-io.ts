/**
 * GET /memory/export and POST /memory/import: the knowledge graph of one
 * namespace as the reference memory server's JSONL file, and back.
 *
 * An import parses the whole body first: one bad line refuses it (400 naming
 * the line) and nothing is written. Then it creates the new entities, adds the
 * observations existing entities lack, and creates the relations, in batches
 * through the ConsciousnessState RPC (each batch one transaction). Everything
 * already present is skipped and counted, so importing a file twice is safe.
 */
import { z } from "zod";
import type { AppRequest } from "../../lib/app";
import { badRequest, errorResponse, HttpError } from "../../lib/errors";
import { LIMITS, NamespaceSchema, type Entity, type Outcome, type Relation } from "../../lib/graph-types";
import { json, parseWith, readText } from "../../lib/http";
import {
  MEMORY_JSONL_TYPE,
  parseMemoryJsonl,
  toMemoryJsonl,
  type ImportCounts,
  type ImportResult,
  type ParsedMemory,
} from "../../lib/memory-jsonl";
import { state, type CellEnv } from "./env";

/** The largest file one import request takes. */
export const IMPORT_LIMIT = 16 * 1024 * 1024;
/** Per batch (one RPC, one transaction): at most this many items and roughly this many bytes of text. */
const BATCH_ITEMS = LIMITS.itemsPerRequest;
const BATCH_BYTES = 1024 * 1024;

type Store = ReturnType<typeof state>;

const QuerySchema = z.object({ namespace: NamespaceSchema });

function namespaceOf(request: Request): string {
  const q = new URL(request.url).searchParams;
  return parseWith(QuerySchema, { namespace: q.get("namespace") ?? undefined }, "query parameters").namespace;
}

function unwrap<T>(o: Outcome<T>): T {
  if (!o.ok) throw new HttpError(o.status, o.error);
  return o.value;
}

/** Groups items into batches of at most BATCH_ITEMS items and about BATCH_BYTES bytes. */
function batches<T>(items: T[], size: (item: T) => number): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const s = size(item);
    if (current.length > 0 && (current.length >= BATCH_ITEMS || bytes + s > BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += s;
  }
  if (current.length > 0) out.push(current);
  return out;
}

interface Pending {
  entityName: string;
  contents: string[];
}

/** Writes a parsed file into `namespace`; duplicates (in the store or earlier in the file) are skipped. */
export async function importGraph(store: Store, namespace: string, file: ParsedMemory): Promise<ImportResult> {
  const imported: ImportCounts = { entities: 0, observations: 0, relations: 0 };
  const skipped: ImportCounts = { entities: 0, observations: 0, relations: 0 };

  // Merge repeated entity lines: the first one's type, every distinct observation in order.
  const merged = new Map<string, Entity>();
  for (const e of file.entities) {
    const known = merged.get(e.name);
    if (known) skipped.entities++;
    const target = known ?? { name: e.name, entityType: e.entityType, observations: [] };
    const present = new Set(target.observations);
    for (const o of e.observations) {
      if (present.has(o)) skipped.observations++;
      else {
        present.add(o);
        target.observations.push(o);
      }
    }
    if (!known) merged.set(e.name, target);
  }

  // 1. Entities, each with as many of its observations as fit its batch; the rest wait for step 2.
  const pending: Pending[] = [];
  const entityBatches = batches([...merged.values()], (e) => e.name.length + e.entityType.length + 64);
  for (const group of entityBatches) {
    let bytes = 0;
    const inline = group.map((e) => {
      const take: string[] = [];
      for (const o of e.observations) {
        if (take.length >= LIMITS.itemsPerRequest || bytes + o.length > BATCH_BYTES) break;
        take.push(o);
        bytes += o.length;
      }
      if (take.length < e.observations.length) pending.push({ entityName: e.name, contents: e.observations.slice(take.length) });
      return { name: e.name, entityType: e.entityType, observations: take };
    });
    const created = new Set(unwrap(await store.createEntities({ namespace, entities: inline })).map((e) => e.name));
    for (const e of inline) {
      if (created.has(e.name)) {
        imported.entities++;
        imported.observations += e.observations.length;
      } else {
        // It existed already: its type stays; its observations go through add_observations (missing ones only).
        skipped.entities++;
        if (e.observations.length > 0) pending.push({ entityName: e.name, contents: e.observations });
      }
    }
  }

  // 2. Observations of existing entities, and the overflow of large ones.
  const pieces: Pending[] = [];
  for (const p of pending) {
    for (const chunk of batches(p.contents, (o) => o.length + 8)) pieces.push({ entityName: p.entityName, contents: chunk });
  }
  for (const group of batches(pieces, (p) => p.contents.reduce((n, o) => n + o.length + 8, p.entityName.length))) {
    const results = unwrap(await store.addObservations({ namespace, observations: group }));
    results.forEach((r, i) => {
      imported.observations += r.addedObservations.length;
      skipped.observations += group[i]!.contents.length - r.addedObservations.length;
    });
  }

  // 3. Relations (the reference allows ones whose ends are unknown; so do we).
  const seen = new Set<string>();
  const relations: Relation[] = [];
  for (const r of file.relations) {
    const key = JSON.stringify([r.from, r.to, r.relationType]);
    if (seen.has(key)) skipped.relations++;
    else {
      seen.add(key);
      relations.push(r);
    }
  }
  for (const group of batches(relations, (r) => r.from.length + r.to.length + r.relationType.length + 64)) {
    const created = unwrap(await store.createRelations({ namespace, relations: group })).length;
    imported.relations += created;
    skipped.relations += group.length - created;
  }
  return { namespace, imported, skipped, lines: file.lines };
}

export async function exportMemory(request: AppRequest, env: CellEnv): Promise<Response> {
  const namespace = namespaceOf(request);
  const graph = await state(env).readGraph({ namespace });
  return new Response(toMemoryJsonl(graph), {
    headers: {
      "content-type": MEMORY_JSONL_TYPE,
      "content-disposition": `attachment; filename="memory-${namespace}.jsonl"`,
      "x-aios-entities": String(graph.entities.length),
      "x-aios-relations": String(graph.relations.length),
    },
  });
}

export async function importMemory(request: AppRequest, env: CellEnv): Promise<Response> {
  const namespace = namespaceOf(request);
  const type = request.headers.get("content-type") ?? "";
  if (/^multipart\//i.test(type)) {
    throw new HttpError(415, "send the JSONL file itself as the body (curl --data-binary @memory.jsonl), not a form upload");
  }
  const body = await readText(request, IMPORT_LIMIT);
  const parsed = parseMemoryJsonl(body);
  if (!parsed.ok) throw badRequest(`line ${parsed.line}: ${parsed.error}; nothing was imported`, { line: parsed.line });
  return json(await importGraph(state(env), namespace, parsed));
}

/** Export is GET only and import POST only; say so instead of "unknown memory operation". */
export function onlyMethod(method: "GET" | "POST") {
  return (request: AppRequest): Response =>
    errorResponse(
      new HttpError(405, `method ${request.method} is not allowed on ${new URL(request.url).pathname}; allowed: ${method}`, {
        allowed: [method],
      }),
      { allow: method },
    );
}
