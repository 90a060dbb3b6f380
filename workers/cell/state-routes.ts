/**
 * Endpoints that read or write the shared state (routes.ts says who may call them), and the answers
 * behind them, which the cell's typed RPC methods (index.ts) give the bridge as well.
 */
import type { AppRequest, Handler } from "../../lib/app";
import { HttpError } from "../../lib/errors";
import { GraphRequests, isReadOp, type GraphOp, type GraphRequest, type Outcome, type ReadOp } from "../../lib/graph-types";
import { json, jsonText, parseWith, readJson } from "../../lib/http";
import {
  ContextSchema,
  LevelReportSchema,
  MessageQuerySchema,
  MessageSchema,
  STATE_BODY_LIMIT,
  encodeMessageCursor,
  type MessageQuery,
  type ContextInput,
  type LevelReport,
  type MessageInput,
  toContext,
  toMessage,
} from "../../lib/state-types";
import { vars } from "../../lib/vars";
import { measure } from "./consciousness";
import { state, type CellEnv } from "./env";

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

/** The answer to one of the nine memory operations as JSON text (a read comes from the state object as text). */
export async function graphAnswer(env: CellEnv, op: GraphOp, args: unknown): Promise<string> {
  if (isReadOp(op)) return state(env).readOpJson(op, args as GraphRequest<ReadOp>);
  return JSON.stringify(await runWriteOp(env, op, args));
}

async function answerGraphOp(env: CellEnv, op: GraphOp, args: unknown): Promise<Response> {
  return jsonText(await graphAnswer(env, op, args));
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
    const body = await readJson(request, GraphRequests[op]);
    return answerGraphOp(env, op, body);
  };
}

/** GET /memory/<op> of one read-only operation: query parameters instead of a body. */
export function memoryGetOf(op: GraphOp): Handler<CellEnv> {
  return async (request, env) => {
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
  return memoryPostOf(graphOp(request.params["op"]))(request, env, ctx, rc);
};
export const memoryGet: Handler<CellEnv> = (request, env, ctx, rc) => {
  return memoryGetOf(graphOp(request.params["op"]))(request, env, ctx, rc);
};

export async function namespaces(_req: AppRequest, env: CellEnv): Promise<Response> {
  return json({ namespaces: await state(env).namespaces() });
}

export async function sendMessage(env: CellEnv, input: MessageInput) {
  return { status: "received", ...toMessage(await state(env).postMessage(input)) };
}

export async function postMessage(request: AppRequest, env: CellEnv): Promise<Response> {
  return json(await sendMessage(env, (await readJson(request, MessageSchema)) as MessageInput), 201);
}

/** A page of messages, newest first; `next_cursor` asks for the page after it (null on the last page). */
export async function listMessages(env: CellEnv, query: MessageQuery) {
  const { messages, total, more } = await state(env).listMessages(query.limit, query.from_cell, query.before);
  const last = messages[messages.length - 1];
  const next_cursor = more && last ? encodeMessageCursor({ hlc: last.hlc, id: last.id }) : null;
  return { messages: messages.map(toMessage), count: messages.length, total, next_cursor };
}

export async function getMessages(request: AppRequest, env: CellEnv): Promise<Response> {
  const q = Object.fromEntries(new URL(request.url).searchParams.entries());
  return json(await listMessages(env, parseWith(MessageQuerySchema, q, "query parameters")));
}

export async function contexts(env: CellEnv) {
  const { own, all } = await state(env).contexts();
  return { cell_id: vars(env).AIOS_CELL_ID, context: own ? toContext(own) : null, contexts: all.map(toContext) };
}

export async function getContext(_req: AppRequest, env: CellEnv): Promise<Response> {
  return json(await contexts(env));
}

export async function setContext(env: CellEnv, input: ContextInput) {
  return toContext(await state(env).putContext(input));
}

export async function putContext(request: AppRequest, env: CellEnv): Promise<Response> {
  return json(await setContext(env, await readJson(request, ContextSchema, STATE_BODY_LIMIT)));
}

/** Records a reported level (and merges its context); answers the level before and after. */
export async function reportLevel(env: CellEnv, report: LevelReport) {
  const before = await measure(env);
  const reporter = report.cell_id ?? report.source ?? "anonymous";
  const { context_processed } = await state(env).reportLevel(report, reporter);
  const after = await measure(env);
  return {
    old_level: before.level,
    new_level: after.level,
    reported_level: report.level,
    reporter,
    context_processed,
    timestamp: new Date().toISOString(),
  };
}

/** Legacy POST /sync-consciousness: record the caller's level, merge its context. */
export async function syncConsciousness(request: AppRequest, env: CellEnv): Promise<Response> {
  return json(await reportLevel(env, await readJson(request, LevelReportSchema, STATE_BODY_LIMIT)));
}
