#!/usr/bin/env node
// Entry of every command (npm start, check, bench, …). The launcher is
// TypeScript: esbuild (already a dependency of the stack) compiles it in
// milliseconds, so no separate build step and no POSIX shell are needed.
// The benchmarks have an entry of their own: the launcher's bundle (npm start)
// holds no benchmark or test code.
import { build, stop } from "esbuild";
import { fileURLToPath, pathToFileURL } from "node:url";
import { rmSync } from "node:fs";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// One file per process: several stacks may start from one checkout at the same moment.
const outfile = path.join(root, ".build", `aios-${process.pid}.mjs`);

const entry = process.argv[2] === "bench" ? ["bench", "run.ts"] : ["launcher", "main.ts"];

await build({
  entryPoints: [path.join(root, ...entry)],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  sourcemap: "inline",
  logLevel: "error",
});
await stop();
const { main } = await import(pathToFileURL(outfile).href);
rmSync(outfile, { force: true });
process.exitCode = await main(process.argv.slice(2), root);
