/** Replication endpoints: only admitted cells (a valid signature by a pinned key) get anything. */
import type { AppRequest } from "../../lib/app";
import { requireToken } from "../../lib/auth";
import { unavailable } from "../../lib/errors";
import { parseJsonText, json } from "../../lib/http";
import { identityOf, isSigned, verifyCell } from "../../durable-objects/identity/intercell";
import { PokeRequest, PullRequest } from "../../lib/sync-types";
import { vars } from "../../lib/vars";
import { state, type CellEnv } from "./env";

const SYNC_BODY_LIMIT = 256 * 1024;

async function fromCell(request: AppRequest, env: CellEnv): Promise<{ cell: string; body: string }> {
  if (!env.IDENTITY) throw unavailable("this cell has no identity binding; sync is off");
  return verifyCell(request, identityOf(env.IDENTITY), SYNC_BODY_LIMIT);
}

export async function pull(request: AppRequest, env: CellEnv): Promise<Response> {
  const { cell, body } = await fromCell(request, env);
  return json(await state(env).serve(cell, parseJsonText(body, PullRequest)));
}

export async function poke(request: AppRequest, env: CellEnv): Promise<Response> {
  const { cell, body } = await fromCell(request, env);
  parseJsonText(body, PokeRequest);
  await state(env).poked(cell);
  return json({ status: "pulling" }, 202);
}

/** This replica's content digest and version vector: equal digests, identical state. */
export async function syncState(request: AppRequest, env: CellEnv): Promise<Response> {
  if (isSigned(request)) await fromCell(request, env);
  else requireToken(request, vars(env).AIOS_API_TOKEN);
  const s = state(env);
  const [{ digest, vv }, peers] = await Promise.all([s.digest(), s.syncPeers()]);
  return json({ cell_id: vars(env).AIOS_CELL_ID, digest, vv, peers });
}
