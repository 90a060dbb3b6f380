/**
 * Universal Sentence Encoder lite (512 dimensions) on TensorFlow.js's wasm
 * backend, inside workerd, from the files of its npm packages (no download).
 * workerd compiles no wasm from bytes at run time, so the backend's loader is
 * handed the precompiled module the launcher gave us: its fetch of the binary
 * answers empty bytes, and WebAssembly.instantiate, given those, instantiates
 * the module. Weights and vocabulary are modules too, read from memory.
 * Loaded on first use (this module is imported lazily by index.ts).
 */
import * as core from "@energetic-ai/core";
import { EmbeddingsModel } from "@energetic-ai/embeddings";
import wasmModule from "./tfjs-backend-wasm-simd.wasm";
import modelText from "./use-model.txt";
import vocabText from "./use-vocab.txt";
import shard1 from "./use-weights-1.bin";
import shard2 from "./use-weights-2.bin";
import shard3 from "./use-weights-3.bin";
import shard4 from "./use-weights-4.bin";
import shard5 from "./use-weights-5.bin";
import shard6 from "./use-weights-6.bin";
import shard7 from "./use-weights-7.bin";

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

const SHARDS = [shard1, shard2, shard3, shard4, shard5, shard6, shard7];
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

function concat(buffers: ArrayBuffer[]): ArrayBuffer {
  const out = new Uint8Array(buffers.reduce((n, b) => n + b.byteLength, 0));
  let at = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), at);
    at += b.byteLength;
  }
  return out.buffer;
}

export async function loadModel(): Promise<EmbeddingsModel> {
  installWasmLoader();
  await tf.setBackend("wasm");
  await tf.ready();
  const json = JSON.parse(modelText) as ModelJson;
  const paths = json.weightsManifest.flatMap((g) => g.paths);
  if (paths.length !== SHARDS.length)
    throw new Error(`the model lists ${paths.length} weight files, the embedder has ${SHARDS.length}`);
  const artifacts = {
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: concat(SHARDS),
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    signature: json.signature,
    userDefinedMetadata: json.userDefinedMetadata,
    modelInitializer: json.modelInitializer,
  };
  const model = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  const vocabulary = JSON.parse(vocabText) as [string, number][];
  return new EmbeddingsModel({ model, vocabulary } as ConstructorParameters<typeof EmbeddingsModel>[0]);
}
