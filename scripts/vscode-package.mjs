// npm run vscode:package — builds the VS Code extension (vscode/) into vscode/aios-cell-stack.vsix.
// vscode/ has its own dependencies and lockfile (esbuild, TypeScript, @vscode/vsce, VS Code's API types);
// they are installed with `npm ci --prefix vscode` when missing or older than that lockfile.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dir = path.join(root, "vscode");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

function run(args) {
  console.log(`> npm ${args.join(" ")}`);
  const r = spawnSync(npm, args, { cwd: root, stdio: "inherit", shell: process.platform === "win32" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const installed = path.join(dir, "node_modules", ".package-lock.json");
const lock = path.join(dir, "package-lock.json");
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  run(["ci", "--prefix", "vscode", "--no-audit", "--no-fund"]);
}
run(["run", "--prefix", "vscode", "package"]);
console.log(`VS Code extension: ${path.join(dir, "aios-cell-stack.vsix")} (install: code --install-extension <that file>)`);
