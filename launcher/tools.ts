/** Project tasks that must run on every OS without a POSIX shell: check and deploy:dry. */
import { spawn, spawnSync } from "node:child_process";
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

/** Runs a tool with its output captured; resolves to whether it succeeded, and what it printed. */
function runCaptured(root: string, name: string, args: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(bin(root, name), args, { cwd: root, shell: process.platform === "win32" });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", (e) => resolve({ ok: false, output: output + String(e) }));
    child.on("close", (code) => resolve({ ok: code === 0, output }));
  });
}

/**
 * Type-check (workers, Node code, the dashboard script), lint, and check formatting. The steps are
 * independent: lint (the longest, about half of the time) runs beside the others, two at a time on
 * any machine, and each step's output is printed under its label once it is done.
 */
export async function check(root: string): Promise<number> {
  // tsc and prettier keep what they learned in .build (exact: a changed file or dependency is checked
  // again), so a second check in a checkout costs seconds; lint's type-aware rules are never cached.
  const tsc = (project: string, name: string) => [
    "-p",
    project,
    "--incremental",
    "--tsBuildInfoFile",
    path.join(".build", "tsc", `${name}.tsbuildinfo`),
  ];
  const steps: [string, string, string[]][] = [
    ["lint", "eslint", ["--max-warnings=0", "."]],
    ["types (workers)", "tsc", tsc("tsconfig.json", "workers")],
    ["types (node)", "tsc", tsc("tsconfig.node.json", "node")],
    ["types (dashboard script)", "tsc", tsc("tsconfig.browser.json", "browser")],
    [
      "format",
      "prettier",
      ["--check", "--log-level=warn", "--cache", "--cache-location", path.join(".build", "prettier-cache"), "."],
    ],
  ];
  console.log("> generated files (npm run types)");
  let ok = (await types(root, ["--check"])) === 0;
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < steps.length; i = next++) {
      const [label, name, args] = steps[i]!;
      const r = await runCaptured(root, name, args);
      process.stdout.write(`> ${label}${r.ok ? "" : " FAILED"}\n${r.output}`);
      ok = r.ok && ok;
    }
  };
  await Promise.all([lane(), lane()]);
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
