/**
 * The built-in embedder (not deployed): serves the model that ships with the
 * stack over OpenAI's POST /v1/embeddings, in a workerd of its own that the
 * launcher starts beside the stack's (launcher/embedder.ts), so that embedding,
 * which keeps a core busy, never delays the stack's requests. The model loads
 * on the first request (about a third of a second), never at start.
 */
import type { EmbeddingsModel } from "@energetic-ai/embeddings";

const MODEL = "use-lite-512";
const MAX_TEXTS = 256;
const MAX_CHARS = 64 * 1024;
/** Texts per run of the model: a query waits for at most one run of the backlog's batch. */
const RUN = 8;
/** A request of this many texts or fewer is a query someone waits for: its run goes first. */
const INTERACTIVE = 2;

let model: Promise<EmbeddingsModel> | undefined;
let loadedMs: number | undefined;

/** Runs of the model, one at a time; queries' runs are put before the backlog's. */
const runs: (() => Promise<void>)[] = [];
let running = false;

function schedule<T>(job: () => Promise<T>, first: boolean): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const run = () => job().then(resolve, reject);
    if (first) runs.unshift(run);
    else runs.push(run);
    if (!running) void drain();
  });
}

async function drain(): Promise<void> {
  running = true;
  try {
    for (let run = runs.shift(); run; run = runs.shift()) await run();
  } finally {
    running = false;
  }
}

function load(): Promise<EmbeddingsModel> {
  model ??= (async () => {
    const started = Date.now();
    const { loadModel } = await import("./model");
    const m = await loadModel();
    loadedMs = Date.now() - started;
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

async function embeddings(request: Request): Promise<Response> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return refuse(400, "the body is not JSON");
  }
  const texts = inputsOf(body);
  if (typeof texts === "string") return refuse(400, texts);
  const m = await load();
  const first = texts.length <= INTERACTIVE;
  const parts: Promise<number[][]>[] = [];
  // An empty text has no tokens: the model is given a space instead.
  for (let i = 0; i < texts.length; i += RUN) {
    const part = texts.slice(i, i + RUN).map((t) => t || " ");
    parts.push(schedule(() => m.embed(part), first));
  }
  const vectors = (await Promise.all(parts)).flat();
  return answer({
    object: "list",
    model: MODEL,
    data: vectors.map((embedding, index) => ({ object: "embedding", index, embedding })),
    usage: { prompt_tokens: 0, total_tokens: 0 },
  });
}

export default {
  async fetch(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    try {
      if (pathname === "/health")
        return answer({ status: "ok", model: MODEL, loaded: loadedMs !== undefined, load_ms: loadedMs ?? null });
      if (/^\/(v1\/)?embeddings$/.test(pathname)) {
        return request.method === "POST" ? await embeddings(request) : refuse(405, "use POST");
      }
      return refuse(404, `no route ${pathname}`);
    } catch (e) {
      console.error(JSON.stringify({ level: "error", service: "embed", msg: "embedding failed", error: String(e) }));
      return answer({ error: { message: "the embedding model failed", type: "server_error" } }, 500);
    }
  },
} satisfies ExportedHandler;
