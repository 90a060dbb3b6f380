/**
 * Recall by meaning (routes.ts: token): POST /memory/recall with a JSON body, GET /memory/recall with
 * query parameters, and GET /memory/recall/status, the embedding backlog's progress.
 */
import type { AppRequest } from "../../lib/app";
import { json, parseWith, readJson } from "../../lib/http";
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
