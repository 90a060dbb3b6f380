/**
 * Embedders: which one the cell uses (from its variables) and the client that
 * calls it. The built-in model and any remote model speak the same protocol,
 * OpenAI's POST /v1/embeddings: the built-in one is served by the embedder
 * runtime the launcher starts beside the stack (workers/embed), so the cell
 * never loads a model into its own process.
 */
import { normalize } from "./vector";

/** The id of the model that ships with the stack (packages pinned in package.json). */
export const BUILTIN_MODEL = "use-lite-512";
export const BUILTIN_ID = `builtin:${BUILTIN_MODEL}@energetic-ai-0.2.0`;
export const DEFAULT_EMBED_TIMEOUT_MS = 30_000;
/** Texts per request to the embedder. */
export const EMBED_BATCH = 32;

export interface EmbedVars {
  AIOS_EMBED?: string | undefined;
  AIOS_EMBED_URL?: string | undefined;
  AIOS_EMBED_MODEL?: string | undefined;
  AIOS_EMBED_API_KEY?: string | undefined;
  AIOS_EMBED_TIMEOUT_MS?: number | undefined;
  AIOS_EMBED_BUILTIN_URL?: string | undefined;
}

export type EmbedderSpec =
  | { kind: "off"; reason: string }
  | { kind: "builtin" | "remote"; id: string; model: string; endpoint: string; apiKey?: string; timeoutMs: number };

/** `http://host` → `http://host/v1/embeddings`; a base ending in `/v1` or a full endpoint is kept. */
export function embeddingsUrl(base: string): string {
  const url = base.replace(/\/+$/, "");
  if (/\/embeddings$/.test(url)) return url;
  if (/\/v\d+(?:beta\d*)?$/.test(url)) return `${url}/embeddings`;
  return `${url}/v1/embeddings`;
}

/** The embedder these variables choose: a remote endpoint when AIOS_EMBED_URL is set, else the built-in model. */
export function embedderOf(v: EmbedVars): EmbedderSpec {
  const mode = (v.AIOS_EMBED ?? "builtin").toLowerCase();
  const timeoutMs = v.AIOS_EMBED_TIMEOUT_MS ?? DEFAULT_EMBED_TIMEOUT_MS;
  if (mode === "off") return { kind: "off", reason: "turned off (AIOS_EMBED=off)" };
  if (v.AIOS_EMBED_URL) {
    const model = v.AIOS_EMBED_MODEL ?? "text-embedding-3-small";
    return {
      kind: "remote",
      id: `remote:${model}`,
      model,
      endpoint: embeddingsUrl(v.AIOS_EMBED_URL),
      ...(v.AIOS_EMBED_API_KEY ? { apiKey: v.AIOS_EMBED_API_KEY } : {}),
      timeoutMs,
    };
  }
  if (!v.AIOS_EMBED_BUILTIN_URL) {
    return { kind: "off", reason: "no embedder here: the built-in model runs beside `npm start`; set AIOS_EMBED_URL" };
  }
  return { kind: "builtin", id: BUILTIN_ID, model: BUILTIN_MODEL, endpoint: embeddingsUrl(v.AIOS_EMBED_BUILTIN_URL), timeoutMs };
}

export class EmbedError extends Error {
  constructor(
    readonly reason: "timeout" | "unreachable" | "http_error" | "bad_response" | "off",
    message: string,
  ) {
    super(message);
    this.name = "EmbedError";
  }
}

/**
 * Embeds `texts` (one request; the caller batches) into unit vectors. Every failure is an EmbedError
 * whose message names what went wrong and never holds the API key. `dimension`, when known, is checked.
 */
export async function embed(
  spec: Extract<EmbedderSpec, { kind: "builtin" | "remote" }>,
  texts: string[],
  opts: { dimension?: number; timeoutMs?: number; fetch?: typeof fetch } = {},
): Promise<Float32Array[]> {
  if (texts.length === 0) return [];
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (spec.apiKey) headers["authorization"] = `Bearer ${spec.apiKey}`;
  const timeoutMs = opts.timeoutMs ?? spec.timeoutMs;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let res: Response;
  let body: unknown;
  const scrub = (s: string) => (spec.apiKey ? s.split(spec.apiKey).join("[key]") : s);
  try {
    res = await (opts.fetch ?? fetch)(spec.endpoint, {
      method: "POST",
      headers,
      body: JSON.stringify({ model: spec.model, input: texts, encoding_format: "float" }),
      signal: controller.signal,
    });
    const text = await res.text();
    if (!res.ok) throw new EmbedError("http_error", scrub(`the embedder answered ${res.status}: ${text.slice(0, 200)}`));
    try {
      body = JSON.parse(text);
    } catch {
      throw new EmbedError("bad_response", "the embedder's answer is not JSON");
    }
  } catch (e) {
    if (e instanceof EmbedError) throw e;
    if (controller.signal.aborted) throw new EmbedError("timeout", `no answer from the embedder within ${timeoutMs} ms`);
    throw new EmbedError("unreachable", scrub(`the embedder is unreachable: ${(e as Error).message}`));
  } finally {
    clearTimeout(timer);
  }
  return vectorsOf(body, texts.length, opts.dimension);
}

function vectorsOf(body: unknown, count: number, dimension: number | undefined): Float32Array[] {
  const data = (body as { data?: unknown })?.data;
  if (!Array.isArray(data) || data.length !== count) {
    throw new EmbedError(
      "bad_response",
      `the embedder answered ${Array.isArray(data) ? data.length : "no"} vectors for ${count} texts`,
    );
  }
  const out: Float32Array[] = new Array<Float32Array>(count);
  data.forEach((d: unknown, i) => {
    const item = d as { embedding?: unknown; index?: unknown };
    const at = typeof item.index === "number" ? item.index : i;
    const v = item.embedding;
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === "number" && Number.isFinite(x))) {
      throw new EmbedError("bad_response", "the embedder answered something that is not a vector of numbers");
    }
    if (dimension !== undefined && v.length !== dimension) {
      throw new EmbedError("bad_response", `the embedder answered vectors of ${v.length} dimensions, expected ${dimension}`);
    }
    if (at < 0 || at >= count || out[at]) throw new EmbedError("bad_response", "the embedder's answer has a bad index");
    out[at] = normalize(v as number[]);
  });
  const first = out[0]!.length;
  if (out.some((v) => v.length !== first))
    throw new EmbedError("bad_response", "the embedder answered vectors of different sizes");
  return out;
}
