/**
 * OpenAI-compatible chat client for the code-assistance model layer, and the
 * prompt that carries the built-in analysis and shared memories to it.
 * Web-standard APIs only (fetch, AbortController), so it runs in a worker.
 * The API key is sent as a header and never appears in any result or message.
 */
import { isAction, type Action } from "../../lib/code-assist";
import { redact, type Analysis } from "./analysis";

export interface ModelConfig {
  url: string;
  model?: string;
  apiKey?: string;
  timeoutMs?: number;
}

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
}

export type ModelFailureKind = "timeout" | "rate_limited" | "http_error" | "bad_response" | "unreachable";

export type ModelResult =
  | { ok: true; content: string; model: string; usage?: Usage; ms: number }
  | { ok: false; kind: ModelFailureKind; status?: number; message: string; retry_after?: number; ms: number };

export const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_TOKENS = 1024;
const MAX_RESPONSE_CHARS = 4 * 1024 * 1024;
const MAX_MESSAGE_CHARS = 300;

/** `http://host` → `http://host/v1/chat/completions`; a base ending in `/v1` or a full endpoint is kept. */
export function chatUrl(base: string): string {
  const url = base.trim().replace(/\/+$/, "");
  if (/\/chat\/completions$/.test(url)) return url;
  if (/\/v\d+(?:beta\d*)?$/.test(url)) return `${url}/chat/completions`;
  return `${url}/v1/chat/completions`;
}

/** Error text from anywhere (servers, runtimes) with the key and any URL credentials taken out, and kept short. */
function scrub(text: string, config: ModelConfig): string {
  let out = text;
  if (config.apiKey) out = out.split(config.apiKey).join("[redacted]");
  out = out.replace(/(\/\/)[^/@\s]*@/g, "$1[redacted]@");
  out = redact(out).replace(/\s+/g, " ").trim();
  return out.length > MAX_MESSAGE_CHARS ? out.slice(0, MAX_MESSAGE_CHARS - 1) + "…" : out;
}

/** Retry-After is seconds or an HTTP date; answers whole seconds from now. */
function retryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const secs = Number(header.trim());
  if (Number.isFinite(secs) && secs >= 0) return Math.ceil(secs);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function errorText(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === "object" && "error" in parsed) {
      const e = (parsed as { error: unknown }).error;
      if (typeof e === "string") return e;
      if (e && typeof e === "object" && "message" in e && typeof e.message === "string") return e.message;
    }
  } catch {
    // not JSON: the text itself
  }
  return body;
}

function usageOf(x: unknown): Usage | undefined {
  if (!x || typeof x !== "object") return undefined;
  const u: Usage = {};
  for (const k of ["prompt_tokens", "completion_tokens", "total_tokens"] as const) {
    const v = (x as Record<string, unknown>)[k];
    if (typeof v === "number" && Number.isFinite(v)) u[k] = v;
  }
  return Object.keys(u).length ? u : undefined;
}

/** The first choice's text, from the chat shape or the older completions shape. */
function contentOf(body: unknown): string | null {
  if (!body || typeof body !== "object") return null;
  const choices = (body as { choices?: unknown }).choices;
  if (!Array.isArray(choices) || choices.length === 0) return null;
  const first: unknown = choices[0];
  if (!first || typeof first !== "object") return null;
  const message = (first as { message?: unknown }).message;
  if (message && typeof message === "object" && typeof (message as { content?: unknown }).content === "string") {
    return (message as { content: string }).content;
  }
  const text = (first as { text?: unknown }).text;
  return typeof text === "string" ? text : null;
}

class Timeout extends Error {}

type Failure = { ok: false; kind: ModelFailureKind; message: string; status?: number; retry_after?: number };
type Outcome = Failure | { ok: true; content: string; model: string; usage?: Usage };

const failure = (kind: ModelFailureKind, message: string, extra: { status?: number; retry_after?: number } = {}): Failure => ({
  ok: false,
  kind,
  message,
  ...extra,
});

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** POSTs and reads the whole answer under one deadline. */
async function post(
  endpoint: string,
  init: RequestInit,
  fetchFn: typeof fetch,
  timeoutMs: number,
): Promise<Failure | { ok: true; res: Response; text: string }> {
  const controller = new AbortController();
  // Racing against the abort as well means a fetch that ignores its signal still cannot hang the caller.
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener("abort", () => reject(new Timeout()), { once: true });
  });
  aborted.catch(() => undefined);
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const timedOut = (err: unknown) => err instanceof Timeout || controller.signal.aborted;
  try {
    let res: Response;
    try {
      res = await Promise.race([fetchFn(endpoint, { ...init, signal: controller.signal }), aborted]);
    } catch (err) {
      if (timedOut(err)) return failure("timeout", `no answer from the model within ${timeoutMs} ms`);
      return failure("unreachable", `cannot reach the model endpoint: ${errorMessage(err)}`);
    }
    try {
      return { ok: true, res, text: await Promise.race([res.text(), aborted]) };
    } catch (err) {
      if (timedOut(err)) return failure("timeout", `the model answer did not finish within ${timeoutMs} ms`);
      return failure("bad_response", `reading the model answer failed: ${errorMessage(err)}`, { status: res.status });
    }
  } finally {
    clearTimeout(timer);
  }
}

/** The endpoint's answer as content, or as the failure it amounts to. */
function interpret(res: Response, text: string, config: ModelConfig): Outcome {
  const status = res.status;
  if (status === 429) {
    const ra = retryAfter(res.headers.get("retry-after"));
    return failure("rate_limited", `the model endpoint is rate limiting: ${errorText(text)}`, {
      status,
      ...(ra === undefined ? {} : { retry_after: ra }),
    });
  }
  if (!res.ok) return failure("http_error", `the model endpoint answered ${status}: ${errorText(text)}`, { status });
  if (text.length > MAX_RESPONSE_CHARS) return failure("bad_response", "the model answer is too large", { status });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return failure("bad_response", "the model endpoint did not answer JSON", { status });
  }
  const content = contentOf(parsed);
  if (content === null) return failure("bad_response", "the model answer has no choices[0].message.content", { status });
  const { model, usage } = parsed as { model?: unknown; usage?: unknown };
  const u = usageOf(usage);
  return {
    ok: true,
    content,
    model: typeof model === "string" && model ? model : (config.model ?? "unknown"),
    ...(u ? { usage: u } : {}),
  };
}

function validEndpoint(url: string): string | null {
  try {
    const endpoint = chatUrl(url);
    const protocol = new URL(endpoint).protocol;
    return protocol === "http:" || protocol === "https:" ? endpoint : null;
  } catch {
    return null;
  }
}

export async function chat(
  config: ModelConfig,
  messages: ChatMessage[],
  opts: { fetch?: typeof fetch; maxTokens?: number } = {},
): Promise<ModelResult> {
  const started = Date.now();
  const finish = (o: Outcome): ModelResult =>
    o.ok ? { ...o, ms: Date.now() - started } : { ...o, message: scrub(o.message, config), ms: Date.now() - started };

  const endpoint = validEndpoint(config.url);
  if (!endpoint) return finish(failure("unreachable", "the model URL is not a valid http(s) URL"));
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (config.apiKey) headers.authorization = `Bearer ${config.apiKey}`;
  const maxTokens = Math.min(32_768, Math.max(1, Math.floor(opts.maxTokens ?? DEFAULT_MAX_TOKENS)));
  // `model` is left out when none is configured: single-model servers (llama.cpp, LM Studio) pick their own.
  const body = JSON.stringify({ model: config.model, messages, temperature: 0.2, max_tokens: maxTokens, stream: false });
  const timeoutMs = config.timeoutMs && config.timeoutMs > 0 ? config.timeoutMs : DEFAULT_TIMEOUT_MS;
  const fetchFn = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));

  const sent = await post(endpoint, { method: "POST", headers, body }, fetchFn, timeoutMs);
  return finish(sent.ok ? interpret(sent.res, sent.text, config) : sent);
}

// ---- prompt

export interface Memory {
  name: string;
  entityType: string;
  observations: string[];
}

export const PROMPT_LIMITS = {
  codeBytes: 24 * 1024,
  memories: 10,
  observationsPerMemory: 5,
  observationChars: 300,
  memoryBytes: 6 * 1024,
  contextChars: 2000,
  outlineItems: 40,
  findings: 40,
} as const;

const INSTRUCTIONS: Record<Action, string> = {
  analyze: "Analyse the code: what it does, its structure, risks and the most important improvements.",
  explain: "Explain what the code does and how, for a developer new to it. Be concrete and brief.",
  review: "Review the code like a careful senior engineer: bugs first, then security, then clarity. Cite line numbers.",
  refactor: "Propose a refactoring that keeps behaviour identical. Show the changed code and say why it is better.",
  generate: "Write the code the context asks for, consistent with the style and conventions of the given code.",
  document: "Write documentation comments for the public functions and types, in the language's usual doc style.",
  test: "Write unit tests for the code with the test framework the project most likely uses; cover edge cases.",
};

const encoder = new TextEncoder();
const bytes = (s: string) => encoder.encode(s).length;

/** The code cut at a line boundary to fit the byte budget, and how many lines were left out. */
function fitCode(code: string, budget: number): { text: string; omitted: number } {
  if (code.length <= budget / 4 || bytes(code) <= budget) return { text: code, omitted: 0 };
  const lines = code.split("\n");
  let used = 0;
  let k = 0;
  for (; k < lines.length; k++) {
    const size = bytes(lines[k]!) + 1;
    if (used + size > budget) break;
    used += size;
  }
  return { text: lines.slice(0, k).join("\n"), omitted: lines.length - k };
}

/** Memories that name something in the code, or share words with it, first; ties keep the caller's order. */
function rankMemories(memories: Memory[], code: string): Memory[] {
  const words = new Set(
    code
      .slice(0, PROMPT_LIMITS.codeBytes)
      .toLowerCase()
      .match(/[a-z_][a-z0-9_]{2,}/g) ?? [],
  );
  const score = (m: Memory) => {
    let s = words.has(m.name.toLowerCase()) || code.includes(m.name) ? 10 : 0;
    for (const o of m.observations.slice(0, 20))
      for (const w of o.toLowerCase().match(/[a-z_][a-z0-9_]{3,}/g) ?? []) if (words.has(w)) s++;
    return s;
  };
  return memories
    .map((m, i) => ({ m, i, s: score(m) }))
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .map((x) => x.m);
}

function memoryBlock(memories: Memory[], code: string): string {
  const out: string[] = [];
  let used = 0;
  for (const m of rankMemories(memories, code).slice(0, PROMPT_LIMITS.memories)) {
    const obs = m.observations
      .slice(0, PROMPT_LIMITS.observationsPerMemory)
      .map((o) => (o.length > PROMPT_LIMITS.observationChars ? o.slice(0, PROMPT_LIMITS.observationChars - 1) + "…" : o));
    const entry = `- ${m.name} (${m.entityType})${obs.map((o) => `\n  - ${o}`).join("")}`;
    if (used + bytes(entry) > PROMPT_LIMITS.memoryBytes) break;
    used += bytes(entry);
    out.push(entry);
  }
  return redact(out.join("\n"));
}

function analysisBlock(a: Analysis): string {
  const s = a.summary;
  const lines = [
    `${s.lines} lines (${s.code_lines} code, ${s.comment_lines} comment, ${s.blank_lines} blank), ` +
      `${s.functions} functions, ${s.classes} types, max nesting ${s.max_nesting}${s.truncated ? ", input truncated" : ""}`,
  ];
  const outline = a.outline.slice(0, PROMPT_LIMITS.outlineItems).map((o) => {
    const figures =
      o.complexity === undefined ? "" : `, ${o.params} params, complexity ${o.complexity}, nesting ${o.max_nesting}`;
    return `- ${o.kind} ${o.parent ? o.parent + "." : ""}${o.name}: lines ${o.start_line}-${o.end_line}${figures}`;
  });
  if (outline.length) lines.push("Outline:", ...outline);
  const findings = a.findings
    .slice(0, PROMPT_LIMITS.findings)
    .map((f) => `- line ${f.line} [${f.severity}] ${f.rule}: ${f.message}`);
  lines.push(findings.length ? "Findings:" : "Findings: none", ...findings);
  if (a.findings.length > findings.length) lines.push(`(${a.findings.length - findings.length} more findings not shown)`);
  return lines.join("\n");
}

/** A fence longer than any run of backticks in the code, so the code cannot close it early. */
function fence(code: string): string {
  const longest = (code.match(/`+/g) ?? []).reduce((n, run) => Math.max(n, run.length), 2);
  return "`".repeat(longest + 1);
}

export function buildPrompt(
  action: string,
  code: string,
  analysis: Analysis,
  memories: Memory[],
  extra: { language?: string; file?: string; context?: string } = {},
): ChatMessage[] {
  const act: Action = isAction(action) ? action : "analyze";
  const language = (extra.language ?? analysis.language.language).replace(/[^\w+#.-]/g, "").slice(0, 32) || "text";
  const system = [
    "You are the code assistant of an AIOS cell, helping a developer in their editor.",
    INSTRUCTIONS[act],
    "A deterministic built-in analyser has already run; use its findings, confirm or correct them, and do not just repeat them.",
    "Shared memories are notes the developer's assistants recorded about this project; use them when relevant.",
    "Answer in Markdown. Never reproduce secrets; values shown masked with … are deliberately hidden.",
  ].join("\n");

  // Likely secrets are masked before anything leaves the cell.
  const fitted = fitCode(redact(code), PROMPT_LIMITS.codeBytes);
  const parts = [`Action: ${act}`];
  if (extra.file) parts.push(`File: ${extra.file}`);
  parts.push(`Language: ${language}`);
  if (extra.context) {
    const ctx =
      extra.context.length > PROMPT_LIMITS.contextChars
        ? extra.context.slice(0, PROMPT_LIMITS.contextChars) + "…"
        : extra.context;
    parts.push(`Context from the developer:\n${redact(ctx)}`);
  }
  parts.push(`Built-in analysis:\n${analysisBlock(analysis)}`);
  const mem = memoryBlock(memories, code);
  if (mem) parts.push(`Shared memories:\n${mem}`);
  const f = fence(fitted.text);
  parts.push(`Code:\n${f}${language}\n${fitted.text.replace(/\n+$/, "")}\n${f}`);
  if (fitted.omitted > 0)
    parts.push(`(${fitted.omitted} more lines not shown: the code was cut to ${PROMPT_LIMITS.codeBytes / 1024} KB)`);
  return [
    { role: "system", content: system },
    { role: "user", content: parts.join("\n\n") },
  ];
}
