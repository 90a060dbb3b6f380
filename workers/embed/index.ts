/**
 * The built-in embedder (not deployed): serves the model that ships with the
 * stack over OpenAI's POST /v1/embeddings, in a workerd of its own that the
 * launcher starts beside the stack's (launcher/embedder.ts), so that embedding,
 * which keeps a core busy, never delays the stack's requests. The model loads
 * on the first request (about a third of a second), never at start.
 *
 * A request's texts are sorted by length and cut into short runs (schedule.ts);
 * a query (a request of at most INTERACTIVE texts) takes the next turn at the
 * model before the backlog, and a batch pauses a timer tick between two runs so
 * that a query arriving meanwhile is received: it waits for one run, not for
 * the batch (and for a few seconds after a query, the backlog's runs hold one
 * text each). A run cannot be interrupted: the model is synchronous wasm.
 */
import type { EmbeddingsModel } from "@energetic-ai/embeddings";
import { pause, RUN_CHARS, Runs, Turns } from "./schedule";

const MODEL = "use-lite-512";
const MAX_TEXTS = 256;
const MAX_CHARS = 64 * 1024;
/** A request of this many texts or fewer is a query someone waits for: its run goes first. */
const INTERACTIVE = 2;

let model: Promise<EmbeddingsModel> | undefined;
let loadedMs: number | undefined;

const turns = new Turns();
const GC_EVERY_BATCHES = 10;
let batchesSinceGc = 0;

function load(files: Fetcher): Promise<EmbeddingsModel> {
  model ??= (async () => {
    const started = Date.now();
    const { loadModel } = await import("./model");
    const m = await loadModel(files);
    loadedMs = Date.now() - started;
    // What loading read (the weight files, their copies) is garbage now: hand it back at once.
    (globalThis as { gc?: () => void }).gc?.();
    console.log(JSON.stringify({ level: "info", service: "embed", msg: "embedding model loaded", model: MODEL, ms: loadedMs }));
    return m;
  })().catch((e: unknown) => {
    model = undefined;
    throw e;
  });
  return model;
}

const answer = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const refuse = (status: number, message: string) => answer({ error: { message, type: "invalid_request_error" } }, status);

function inputsOf(body: unknown): string[] | string {
  const input = (body as { input?: unknown } | null)?.input;
  const list = typeof input === "string" ? [input] : input;
  if (!Array.isArray(list) || list.length === 0) return "input must be a string or a non-empty array of strings";
  if (list.length > MAX_TEXTS) return `input holds more than ${MAX_TEXTS} texts`;
  if (!list.every((t) => typeof t === "string")) return "input must hold strings only";
  if (list.some((t) => t.length > MAX_CHARS)) return `an input is longer than ${MAX_CHARS} characters`;
  return list as string[];
}

async function embeddings(request: Request, env: Env): Promise<Response> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return refuse(400, "the body is not JSON");
  }
  const texts = inputsOf(body);
  if (typeof texts === "string") return refuse(400, texts);
  const m = await load(env.MODEL);
  const first = texts.length <= INTERACTIVE;
  const vectors: number[][] = new Array<number[]>(texts.length);
  const runs = new Runs(texts);
  for (let n = 0; ; n++) {
    if (n > 0) await pause();
    const run = runs.next(first ? RUN_CHARS : turns.backlogRun());
    if (!run) break;
    // An empty text has no tokens: the model is given a space instead.
    const out = await turns.take(() => m.embed(run.map((i) => texts[i] || " ")), first);
    run.forEach((i, j) => (vectors[i] = out[j]!));
  }
  // The backlog's batches leave garbage V8 would keep growing its heap for: collected every few batches
  // (a few milliseconds, off any query's path).
  if (!first && ++batchesSinceGc >= GC_EVERY_BATCHES) {
    batchesSinceGc = 0;
    (globalThis as { gc?: () => void }).gc?.();
  }
  return answer({
    object: "list",
    model: MODEL,
    data: vectors.map((embedding, index) => ({ object: "embedding", index, embedding })),
    usage: { prompt_tokens: 0, total_tokens: 0 },
  });
}

interface Env {
  /** The model package's folder, read-only (a disk service of the embedder's workerd). */
  MODEL: Fetcher;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(request.url);
    try {
      if (pathname === "/health")
        return answer({ status: "ok", model: MODEL, loaded: loadedMs !== undefined, load_ms: loadedMs ?? null });
      if (/^\/(v1\/)?embeddings$/.test(pathname)) {
        return request.method === "POST" ? await embeddings(request, env) : refuse(405, "use POST");
      }
      return refuse(404, `no route ${pathname}`);
    } catch (e) {
      console.error(JSON.stringify({ level: "error", service: "embed", msg: "embedding failed", error: String(e) }));
      return answer({ error: { message: "the embedding model failed", type: "server_error" } }, 500);
    }
  },
} satisfies ExportedHandler<Env>;
