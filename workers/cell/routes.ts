/** The cell's route table: every route with who may call it (lib/app.ts enforces it). */
import { createApp } from "../../lib/app";
import { vars } from "../../lib/vars";
import type { CellEnv } from "./env";
import { codeAssist } from "./code-assist";
import { dashboard } from "./dashboard/page";
import { history as levelHistory } from "./dashboard/history";
import * as memoryIo from "./memory-io";
import * as recall from "./recall-routes";
import * as state from "./state-routes";
import * as status from "./status";
import * as sync from "./sync-routes";

const app = createApp<CellEnv>("cell", { guards: { token: (env) => vars(env).AIOS_API_TOKEN, peer: sync.verifyPeer } })
  .get("/", "public", dashboard)
  .get("/health", "public", status.health)
  .get("/discover", "public", status.discover)
  .get("/consciousness", "public", status.consciousness)
  .get("/consciousness/primitives", "public", status.primitives)
  .get("/consciousness/history", "public", levelHistory)
  .get("/peers", "public", status.peers)
  .post("/sync-consciousness", "token", state.syncConsciousness)
  .post("/consciousness/sync", "token", state.syncConsciousness)
  .get("/memory", "token", state.namespaces)
  .get("/memory/export", "token", memoryIo.exportMemory)
  .post("/memory/import", "token", memoryIo.importMemory)
  .post("/memory/export", "token", memoryIo.onlyMethod("GET"))
  .get("/memory/import", "token", memoryIo.onlyMethod("POST"))
  .post("/memory/recall", "token", recall.recallPost)
  .get("/memory/recall", "token", recall.recallGet)
  .get("/memory/recall/status", "token", recall.recallStatus)
  // Any other spelling of an operation: named by the path, or refused with the list of operations.
  .get("/memory/:op", "token", state.memoryGet)
  .post("/memory/:op", "token", state.memoryPost)
  .post("/message", "token", state.postMessage)
  .post("/messages", "token", state.postMessage)
  .get("/messages", "token", state.getMessages)
  .post("/messages/recall", "token", recall.messagesRecallPost)
  .get("/messages/recall", "token", recall.messagesRecallGet)
  .get("/context", "token", state.getContext)
  .put("/context", "token", state.putContext)
  .post("/code-assist", "token", codeAssist)
  .post("/sync/pull", "peer", sync.pull)
  .post("/sync/poke", "peer", sync.poke)
  .get("/sync/state", "peer-or-token", sync.syncState);
// The nine operations by their exact paths (no router work for the calls assistants make most).
for (const op of state.GRAPH_OPS)
  app.post(`/memory/${op}`, "token", state.memoryPostOf(op)).get(`/memory/${op}`, "token", state.memoryGetOf(op));

export const cellApp = app;
