/** Replication endpoints: only admitted cells (a valid signature by a pinned key) get anything (routes.ts says so). */
import type { AppRequest, PeerCall, RequestContext } from "../../lib/app";
import { unavailable } from "../../lib/errors";
import { parseJsonText, json } from "../../lib/http";
import { identityOf, verifyCell } from "../../durable-objects/identity/intercell";
import { PokeRequest, PullRequest } from "../../lib/sync-types";
import { vars } from "../../lib/vars";
import { state, type CellEnv } from "./env";

const SYNC_BODY_LIMIT = 256 * 1024;

/** The cell's peer guard: a signature by the key pinned to the signing cell's id. */
export function verifyPeer(request: Request, env: CellEnv): Promise<PeerCall> {
  if (!env.IDENTITY) throw unavailable("this cell has no identity binding; sync is off");
  return verifyCell(request, identityOf(env.IDENTITY), SYNC_BODY_LIMIT);
}

export async function pull(_req: AppRequest, env: CellEnv, _ctx: ExecutionContext, rc: RequestContext): Promise<Response> {
  const { cell, body } = rc.signed;
  return json(await state(env).serve(cell, parseJsonText(body, PullRequest)));
}

export async function poke(_req: AppRequest, env: CellEnv, _ctx: ExecutionContext, rc: RequestContext): Promise<Response> {
  const { cell, body } = rc.signed;
  parseJsonText(body, PokeRequest);
  await state(env).poked(cell);
  return json({ status: "pulling" }, 202);
}

/** This replica's content digest and version vector: equal digests, identical state. */
export async function syncState(_req: AppRequest, env: CellEnv): Promise<Response> {
  const s = state(env);
  const [{ digest, vv }, peers] = await Promise.all([s.digest(), s.syncPeers()]);
  return json({ cell_id: vars(env).AIOS_CELL_ID, digest, vv, peers });
}
