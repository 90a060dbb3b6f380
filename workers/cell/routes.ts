/** The cell's route table. */
import { createApp } from "../../lib/app";
import type { CellEnv } from "./env";
import { codeAssist } from "./code-assist";
import { dashboard } from "./dashboard/page";
import { history as levelHistory } from "./dashboard/history";
import * as memoryIo from "./memory-io";
import * as recall from "./recall-routes";
import * as state from "./state-routes";
import * as status from "./status";
import * as sync from "./sync-routes";

const app = createApp<CellEnv>("cell")
  .get("/", dashboard)
  .get("/health", status.health)
  .get("/discover", status.discover)
  .get("/consciousness", status.consciousness)
  .get("/consciousness/primitives", status.primitives)
  .get("/consciousness/history", levelHistory)
  .get("/peers", status.peers)
  .post("/sync-consciousness", state.syncConsciousness)
  .post("/consciousness/sync", state.syncConsciousness)
  .get("/memory", state.namespaces)
  // Before /memory/:op, which would otherwise take them (itty-router matches in order).
  .get("/memory/export", memoryIo.exportMemory)
  .post("/memory/import", memoryIo.importMemory)
  .post("/memory/export", memoryIo.onlyMethod("GET"))
  .get("/memory/import", memoryIo.onlyMethod("POST"))
  .post("/memory/recall", recall.recallPost)
  .get("/memory/recall", recall.recallGet)
  .get("/memory/recall/status", recall.recallStatus);
// Each operation by its exact path, so a memory call costs no router work; /memory/:op catches the rest.
for (const op of state.GRAPH_OPS) app.post(`/memory/${op}`, state.memoryPostOf(op)).get(`/memory/${op}`, state.memoryGetOf(op));
export const cellApp = app
  .get("/memory/:op", state.memoryGet)
  .post("/memory/:op", state.memoryPost)
  .post("/message", state.postMessage)
  .post("/messages", state.postMessage)
  .get("/messages", state.getMessages)
  .get("/context", state.getContext)
  .put("/context", state.putContext)
  .post("/code-assist", codeAssist)
  .post("/sync/pull", sync.pull)
  .post("/sync/poke", sync.poke)
  .get("/sync/state", sync.syncState);
