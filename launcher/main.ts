/**
 * Command dispatcher behind bin/aios.mjs (npm start, check, deploy:dry, types, soak, import, export).
 * `npm run bench` has its own entry (bench/run.ts), so no command here loads benchmark or test code.
 */
import { types } from "./generate";
import { exportCommand, importCommand } from "./memory-cli";
import { relay, relayKey } from "./relay";
import { soak } from "./soak";
import { start } from "./start";
import { check, deploy, deployDry } from "./tools";

const COMMANDS: Record<string, (root: string, args: string[]) => Promise<number>> = {
  start: (root) => start(root),
  check: (root) => check(root),
  "deploy-dry": (root) => deployDry(root),
  types: (root, args) => types(root, args),
  // The relay (docs/relay.md): run it here, print its key, deploy it to Cloudflare.
  relay: (root) => relay(root),
  "relay-key": () => relayKey(),
  deploy: (root, args) => deploy(root, args),
  import: (root, args) => importCommand(root, args),
  export: (root, args) => exportCommand(root, args),
  // The fault and load e2e tests in their long form: vitest with AIOS_SOAK=1 (see launcher/soak.ts).
  soak: (root, args) => soak(root, args),
};

export async function main(argv: string[], root: string): Promise<number> {
  const [command = "start", ...rest] = argv;
  const run = COMMANDS[command];
  if (!run) {
    console.error(`aios: unknown command "${command}"; commands: ${[...Object.keys(COMMANDS), "bench"].join(", ")}`);
    return 2;
  }
  return run(root, rest);
}
