/** Token-protected endpoints that read or write the shared state. */
import type { AppRequest, Handler } from "../../lib/app";
import { requireToken } from "../../lib/auth";
import { HttpError } from "../../lib/errors";
import { GraphRequests, isReadOp, type GraphOp, type GraphRequest, type Outcome, type ReadOp } from "../../lib/graph-types";
import { json, jsonText, parseWith, readJson } from "../../lib/http";
import {
  ContextSchema,
  LevelReportSchema,
  MessageQuerySchema,
  MessageSchema,
  encodeMessageCursor,
  type MessageInput,
  toContext,
  toMessage,
} from "../../lib/state-types";
import { vars } from "../../lib/vars";
import { measure } from "./consciousness";
import { state, type CellEnv } from "./env";

export function guard(request: AppRequest, env: CellEnv): void {
  requireToken(request, vars(env).AIOS_API_TOKEN);
}

function unwrap<T>(o: Outcome<T>): T {
  if (!o.ok) throw new HttpError(o.status, o.error);
  return o.value;
}

/** Runs one of the six memory operations that write; `args` has already been parsed with `GraphRequests[op]`. */
async function runWriteOp(env: CellEnv, op: Exclude<GraphOp, ReadOp>, args: unknown): Promise<unknown> {
  const s = state(env);
  switch (op) {
    case "create_entities":
      return { entities: unwrap(await s.createEntities(args as GraphRequest<"create_entities">)) };
    case "create_relations":
      return { relations: unwrap(await s.createRelations(args as GraphRequest<"create_relations">)) };
    case "add_observations":
      return { results: unwrap(await s.addObservations(args as GraphRequest<"add_observations">)) };
    case "delete_entities":
      return {
        success: true,
        ...unwrap(await s.deleteEntities(args as GraphRequest<"delete_entities">)),
        message: "Entities deleted successfully",
      };
    case "delete_observations":
      return {
        success: true,
        ...unwrap(await s.deleteObservations(args as GraphRequest<"delete_observations">)),
        message: "Observations deleted successfully",
      };
    case "delete_relations":
      return {
        success: true,
        ...unwrap(await s.deleteRelations(args as GraphRequest<"delete_relations">)),
        message: "Relations deleted successfully",
      };
  }
}

/** The answer to one of the nine memory operations; a read comes from the state object as JSON text. */
async function answerGraphOp(env: CellEnv, op: GraphOp, args: unknown): Promise<Response> {
  if (isReadOp(op)) return jsonText(await state(env).readOpJson(op, args as GraphRequest<ReadOp>));
  return json(await runWriteOp(env, op, args));
}

export const GRAPH_OPS = Object.keys(GraphRequests) as GraphOp[];
const OPS = GRAPH_OPS;

function graphOp(name: string | undefined): GraphOp {
  if (!name || !(OPS as string[]).includes(name)) {
    throw new HttpError(404, `unknown memory operation "${name ?? ""}"; valid: ${OPS.join(", ")}`, { operations: OPS });
  }
  return name as GraphOp;
}

/** POST /memory/<op> of one known operation (registered by exact path: no router work). */
export function memoryPostOf(op: GraphOp): Handler<CellEnv> {
  return async (request, env) => {
    guard(request, env);
    const body = await readJson(request, GraphRequests[op]);
    return answerGraphOp(env, op, body);
  };
}

/** GET /memory/<op> of one read-only operation: query parameters instead of a body. */
export function memoryGetOf(op: GraphOp): Handler<CellEnv> {
  return async (request, env) => {
    guard(request, env);
    if (!isReadOp(op)) {
      throw new HttpError(405, `${op} changes state; use POST`, { allowed: ["POST"] });
    }
    const q = new URL(request.url).searchParams;
    const args: Record<string, unknown> = { namespace: q.get("namespace") ?? undefined };
    if (op === "search_nodes")
      Object.assign(args, { query: q.get("query") ?? q.get("q") ?? undefined, limit: q.get("limit") ?? undefined });
    if (op === "open_nodes") args["names"] = q.getAll("name");
    return answerGraphOp(env, op, parseWith(GraphRequests[op], args, "query parameters"));
  };
}

/** /memory/:op for any other spelling: the operation is named by the path or refused with 404. */
export const memoryPost: Handler<CellEnv> = (request, env, ctx, rc) => {
  guard(request, env);
  return memoryPostOf(graphOp(request.params["op"]))(request, env, ctx, rc);
};
export const memoryGet: Handler<CellEnv> = (request, env, ctx, rc) => {
  guard(request, env);
  return memoryGetOf(graphOp(request.params["op"]))(request, env, ctx, rc);
};

export async function namespaces(request: AppRequest, env: CellEnv): Promise<Response> {
  guard(request, env);
  return json({ namespaces: await state(env).namespaces() });
}

export async function postMessage(request: AppRequest, env: CellEnv): Promise<Response> {
  guard(request, env);
  const input = (await readJson(request, MessageSchema)) as MessageInput;
  const message = toMessage(await state(env).postMessage(input));
  return json({ status: "received", ...message }, 201);
}

export async function getMessages(request: AppRequest, env: CellEnv): Promise<Response> {
  guard(request, env);
  const q = Object.fromEntries(new URL(request.url).searchParams.entries());
  const { limit, from_cell, before } = parseWith(MessageQuerySchema, q, "query parameters");
  const { messages, total, more } = await state(env).listMessages(limit, from_cell, before);
  const last = messages[messages.length - 1];
  const next_cursor = more && last ? encodeMessageCursor({ hlc: last.hlc, id: last.id }) : null;
  return json({ messages: messages.map(toMessage), count: messages.length, total, next_cursor });
}

export async function getContext(request: AppRequest, env: CellEnv): Promise<Response> {
  guard(request, env);
  const { own, all } = await state(env).contexts();
  return json({ cell_id: vars(env).AIOS_CELL_ID, context: own ? toContext(own) : null, contexts: all.map(toContext) });
}

export async function putContext(request: AppRequest, env: CellEnv): Promise<Response> {
  guard(request, env);
  const input = await readJson(request, ContextSchema, 256 * 1024);
  return json(toContext(await state(env).putContext(input)));
}

/** Legacy POST /sync-consciousness: record the caller's level, merge its context. */
export async function syncConsciousness(request: AppRequest, env: CellEnv): Promise<Response> {
  guard(request, env);
  const report = await readJson(request, LevelReportSchema, 256 * 1024);
  const before = await measure(env);
  const reporter = report.cell_id ?? report.source ?? "anonymous";
  const { context_processed } = await state(env).reportLevel(report, reporter);
  const after = await measure(env);
  return json({
    old_level: before.level,
    new_level: after.level,
    reported_level: report.level,
    reporter,
    context_processed,
    timestamp: new Date().toISOString(),
  });
}
