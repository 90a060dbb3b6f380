/**
 * Recall by meaning (routes.ts: token): POST /memory/recall with a JSON body, GET /memory/recall with
 * query parameters, and GET /memory/recall/status, the embedding backlog's progress; the same for
 * messages at /messages/recall.
 */
import type { AppRequest } from "../../lib/app";
import { json, parseWith, readJson } from "../../lib/http";
import { MessageRecallSchema, type MessageRecallAnswer, type MessageRecallRequest } from "../../lib/message-recall-types";
import { toMessage } from "../../lib/state-types";
import { RecallSchema } from "../../lib/recall-types";
import { state, type CellEnv } from "./env";

export async function recallPost(request: AppRequest, env: CellEnv): Promise<Response> {
  const req = await readJson(request, RecallSchema, 64 * 1024);
  return json(await state(env).recall(req));
}

export async function recallGet(request: AppRequest, env: CellEnv): Promise<Response> {
  const q = new URL(request.url).searchParams;
  const args = {
    query: q.get("query") ?? q.get("q") ?? undefined,
    namespace: q.get("namespace") ?? undefined,
    limit: q.get("limit") ?? undefined,
    mode: q.get("mode") ?? undefined,
  };
  return json(await state(env).recall(parseWith(RecallSchema, args, "query parameters")));
}

export async function recallStatus(_req: AppRequest, env: CellEnv): Promise<Response> {
  return json(await state(env).embedStatus());
}

/** Messages by meaning, in the API's shape (the REST routes and the cell's typed `recallMessages`). */
export async function recallMessages(env: CellEnv, req: MessageRecallRequest): Promise<MessageRecallAnswer> {
  const answer = await state(env).recallMessages(req);
  return { ...answer, results: answer.results.map(({ score, ...row }) => ({ ...toMessage(row), score })) };
}

export async function messagesRecallPost(request: AppRequest, env: CellEnv): Promise<Response> {
  return json(await recallMessages(env, await readJson(request, MessageRecallSchema, 64 * 1024)));
}

export async function messagesRecallGet(request: AppRequest, env: CellEnv): Promise<Response> {
  const q = new URL(request.url).searchParams;
  const args = { query: q.get("query") ?? q.get("q") ?? undefined, limit: q.get("limit") ?? undefined };
  return json(await recallMessages(env, parseWith(MessageRecallSchema, args, "query parameters")));
}
