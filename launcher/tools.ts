/** Project tasks that must run on every OS without a POSIX shell: check and deploy:dry. */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { types } from "./generate";
import { readRelaySpec, readWorkerSpecs } from "./workers";

function bin(root: string, name: string): string {
  return path.join(root, "node_modules", ".bin", process.platform === "win32" ? `${name}.cmd` : name);
}

function run(root: string, label: string, name: string, args: string[]): boolean {
  console.log(`> ${label}`);
  const r = spawnSync(bin(root, name), args, { cwd: root, stdio: "inherit", shell: process.platform === "win32" });
  return r.status === 0;
}

/** Type-check (workers and Node code), lint, and check formatting. */
export async function check(root: string): Promise<number> {
  const steps: [string, string, string[]][] = [
    ["types (workers)", "tsc", ["-p", "tsconfig.json"]],
    ["types (node)", "tsc", ["-p", "tsconfig.node.json"]],
    ["types (dashboard script)", "tsc", ["-p", "tsconfig.browser.json"]],
    ["lint", "eslint", ["--max-warnings=0", "."]],
    ["format", "prettier", ["--check", "--log-level=warn", "."]],
  ];
  console.log("> generated files (npm run types)");
  let ok = (await types(root, ["--check"])) === 0;
  for (const [label, name, args] of steps) ok = run(root, label, name, args) && ok;
  return ok ? 0 : 1;
}

/** Builds every worker, and the relay, for Cloudflare with `wrangler deploy --dry-run`. */
export async function deployDry(root: string): Promise<number> {
  let ok = true;
  for (const spec of [...readWorkerSpecs(root), readRelaySpec(root)]) {
    const outdir = path.join(root, ".build", "deploy", spec.service);
    ok =
      run(root, `wrangler deploy --dry-run (${spec.config.name})`, "wrangler", [
        "deploy",
        "--dry-run",
        "--outdir",
        outdir,
        "-c",
        spec.configPath,
      ]) && ok;
  }
  return ok ? 0 : 1;
}

/** Deploys the relay to Cloudflare (`wrangler deploy`; wrangler asks to log in if needed). Extra arguments go to wrangler. */
export async function deploy(root: string, args: string[]): Promise<number> {
  const spec = readRelaySpec(root);
  return run(root, `wrangler deploy (${spec.config.name})`, "wrangler", ["deploy", "-c", spec.configPath, ...args]) ? 0 : 1;
}
