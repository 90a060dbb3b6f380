/** Bridge worker (:3001, loopback): how VS Code and its Copilot agent reach the cell stack. */
import { bridgeApp, type BridgeEnv } from "./routes";

export default {
  fetch: (request, env, ctx) => bridgeApp.fetch(request, env, ctx),
} satisfies ExportedHandler<BridgeEnv>;
