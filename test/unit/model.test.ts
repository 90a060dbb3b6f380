/** The OpenAI-compatible model client and the prompt it sends, with a fake fetch standing in for the endpoint. */
import { describe, expect, it } from "vitest";
import { ACTIONS, isAction } from "../../lib/code-assist";
import { analyze } from "../../workers/cell/analysis";
import { buildPrompt, chat, chatUrl, PROMPT_LIMITS, type ChatMessage, type ModelConfig } from "../../workers/cell/model";
import { call } from "./helpers";

const KEY = "sk-test-0123456789abcdefSECRET";
const MESSAGES: ChatMessage[] = [
  { role: "system", content: "be brief" },
  { role: "user", content: "hello" },
];

interface Seen {
  url: string;
  method: string;
  headers: Headers;
  body: unknown;
}

/** A fetch that records the request and answers with `respond`. */
function fakeFetch(respond: (seen: Seen) => Response | Promise<Response>): { fetch: typeof fetch; seen: Seen[] } {
  const seen: Seen[] = [];
  const f = async (input: RequestInfo | URL, init?: RequestInit) => {
    const s: Seen = {
      url: String(input),
      method: init?.method ?? "GET",
      headers: new Headers(init?.headers),
      body: JSON.parse(String(init?.body)),
    };
    seen.push(s);
    return respond(s);
  };
  return { fetch: f as typeof fetch, seen };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

const OK_BODY = {
  id: "chatcmpl-1",
  model: "tiny-model-2",
  choices: [{ index: 0, message: { role: "assistant", content: "Looks fine." }, finish_reason: "stop" }],
  usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
};

describe("chat request", () => {
  it("posts the OpenAI chat body with the bearer key to /v1/chat/completions", async () => {
    const { fetch, seen } = fakeFetch(() => json(OK_BODY));
    const result = await chat({ url: "http://model.test:8080/", model: "tiny-model", apiKey: KEY }, MESSAGES, {
      fetch,
      maxTokens: 256,
    });
    expect(result.ok).toBe(true);
    expect(seen).toHaveLength(1);
    const s = seen[0]!;
    expect(s.url).toBe("http://model.test:8080/v1/chat/completions");
    expect(s.method).toBe("POST");
    expect(s.headers.get("authorization")).toBe(`Bearer ${KEY}`);
    expect(s.headers.get("content-type")).toBe("application/json");
    expect(s.body).toEqual({ model: "tiny-model", messages: MESSAGES, temperature: 0.2, max_tokens: 256, stream: false });
  });

  it("sends no Authorization header without a key, and a default max_tokens", async () => {
    const { fetch, seen } = fakeFetch(() => json(OK_BODY));
    await chat({ url: "http://model.test", model: "m" }, MESSAGES, { fetch });
    expect(seen[0]!.headers.has("authorization")).toBe(false);
    expect((seen[0]!.body as { max_tokens: number }).max_tokens).toBe(1024);
  });

  it.each([
    ["http://h:1234", "http://h:1234/v1/chat/completions"],
    ["http://h:1234/", "http://h:1234/v1/chat/completions"],
    ["https://api.example.com/v1", "https://api.example.com/v1/chat/completions"],
    ["https://api.example.com/v1/", "https://api.example.com/v1/chat/completions"],
    ["https://api.example.com/openai/v1/chat/completions", "https://api.example.com/openai/v1/chat/completions"],
    ["http://h/proxy", "http://h/proxy/v1/chat/completions"],
  ])("%s → %s", (url, expected) => {
    expect(chatUrl(url)).toBe(expected);
  });
});

describe("chat results", () => {
  const config: ModelConfig = { url: "http://model.test", model: "tiny-model", apiKey: KEY, timeoutMs: 2000 };

  it("parses a successful answer", async () => {
    const { fetch } = fakeFetch(() => json(OK_BODY));
    const r = await chat(config, MESSAGES, { fetch });
    expect(r).toMatchObject({
      ok: true,
      content: "Looks fine.",
      model: "tiny-model-2",
      usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
    });
    expect(typeof r.ms).toBe("number");
  });

  it("maps 429 to rate_limited with retry_after", async () => {
    const { fetch } = fakeFetch(() => json({ error: { message: "slow down" } }, 429, { "retry-after": "7" }));
    const r = await chat(config, MESSAGES, { fetch });
    expect(r).toMatchObject({ ok: false, kind: "rate_limited", status: 429, retry_after: 7 });
    if (!r.ok) expect(r.message).toContain("slow down");
  });

  it("maps 500 to http_error with the server's message", async () => {
    const { fetch } = fakeFetch(() => json({ error: { message: "model crashed" } }, 500));
    const r = await chat(config, MESSAGES, { fetch });
    expect(r).toMatchObject({ ok: false, kind: "http_error", status: 500 });
    if (!r.ok) expect(r.message).toContain("model crashed");
  });

  it.each([
    ["not JSON", () => new Response("<html>oops</html>", { status: 200 })],
    ["JSON without choices", () => json({ object: "chat.completion" })],
    ["a choice without text", () => json({ choices: [{ message: { content: null } }] })],
  ])("maps %s to bad_response", async (_name, respond) => {
    const { fetch } = fakeFetch(respond);
    const r = await chat(config, MESSAGES, { fetch });
    expect(r).toMatchObject({ ok: false, kind: "bad_response" });
  });

  it("times out when the endpoint does not answer, aborting the request", async () => {
    let signal: AbortSignal | undefined;
    const waiting = ((_input: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        signal = init?.signal ?? undefined;
        signal?.addEventListener("abort", () => reject(new DOMException("The operation was aborted", "AbortError")));
      })) as typeof fetch;
    const r = await chat({ ...config, timeoutMs: 50 }, MESSAGES, { fetch: waiting });
    expect(r).toMatchObject({ ok: false, kind: "timeout" });
    expect(signal?.aborted).toBe(true);
    expect(r.ms).toBeGreaterThanOrEqual(40);
  });

  it("times out even if the fetch ignores its abort signal", async () => {
    const deaf = (() => new Promise<Response>(() => {})) as typeof fetch;
    const r = await chat({ ...config, timeoutMs: 30 }, MESSAGES, { fetch: deaf });
    expect(r).toMatchObject({ ok: false, kind: "timeout" });
  });

  it("maps a network failure and a bad URL to unreachable", async () => {
    const refused = (() => Promise.reject(new TypeError("connection refused"))) as typeof fetch;
    expect(await chat(config, MESSAGES, { fetch: refused })).toMatchObject({ ok: false, kind: "unreachable" });
    expect(await chat({ ...config, url: "not a url" }, MESSAGES, { fetch: refused })).toMatchObject({
      ok: false,
      kind: "unreachable",
    });
    expect(await chat({ ...config, url: "ftp://h" }, MESSAGES, { fetch: refused })).toMatchObject({
      ok: false,
      kind: "unreachable",
    });
  });

  it("never puts the API key in a result, even when the server or runtime echoes it", async () => {
    const echo = (status: number) => (s: Seen) => new Response(`bad key ${s.headers.get("authorization")}`, { status });
    const failures: (typeof fetch)[] = [
      fakeFetch(echo(401)).fetch,
      fakeFetch(echo(429)).fetch,
      fakeFetch(echo(500)).fetch,
      fakeFetch(echo(200)).fetch,
      fakeFetch((s) => json({ error: { message: `invalid api key: ${s.headers.get("authorization")}` } }, 403)).fetch,
      (() => Promise.reject(new Error(`connect failed for key=${KEY}`))) as typeof fetch,
    ];
    for (const f of failures) {
      const r = await chat({ ...config, url: `http://user:${KEY}@model.test` }, MESSAGES, { fetch: f });
      expect(r.ok).toBe(false);
      expect(JSON.stringify(r)).not.toContain(KEY);
      expect(JSON.stringify(r)).not.toContain(KEY.slice(0, 12));
    }
  });
});

describe("buildPrompt", () => {
  const code = [
    "import { verify } from './jwt';",
    "export function authenticate(token: string) {",
    "  // TODO: check expiry",
    "  if (token == '') return null;",
    "  return verify(token);",
    "}",
  ].join("\n");
  const analysis = analyze(code, { file: "auth.ts" });
  const memories = [
    { name: "Billing", entityType: "service", observations: ["invoices monthly"] },
    { name: "authenticate", entityType: "function", observations: ["must reject expired tokens", "uses verify from jwt"] },
  ];

  it("has one system and one user message with the action, analysis, memories and code", () => {
    const messages = buildPrompt("review", code, analysis, memories, { file: "src/auth.ts", context: "fixing login" });
    expect(messages.map((m) => m.role)).toEqual(["system", "user"]);
    const [system, user] = messages.map((m) => m.content) as [string, string];
    expect(system).toMatch(/review/i);
    expect(user).toContain("Action: review");
    expect(user).toContain("File: src/auth.ts");
    expect(user).toContain("Language: typescript");
    expect(user).toContain("fixing login");
    expect(user).toContain("function authenticate: lines 2-6");
    expect(user).toContain("line 3 [info] todo: TODO: check expiry");
    expect(user).toContain("line 4 [warning] eqeqeq");
    expect(user).toContain("```typescript\n" + code + "\n```");
    // The memory that names something in the code comes first.
    expect(user.indexOf("authenticate (function)")).toBeGreaterThan(-1);
    expect(user.indexOf("authenticate (function)")).toBeLessThan(user.indexOf("Billing (service)"));
  });

  it("caps code, memories and observations", () => {
    const big = Array.from({ length: 3000 }, (_, i) => `const v${i} = ${i}; // line ${i} padding padding`).join("\n");
    const many = Array.from({ length: 40 }, (_, i) => ({
      name: `M${i}`,
      entityType: "note",
      observations: Array(20).fill("x".repeat(1000)),
    }));
    const user = buildPrompt("explain", big, analyze(big, { file: "big.ts" }), many)[1]!.content;
    const codePart = user.slice(user.indexOf("```"));
    expect(new TextEncoder().encode(codePart).length).toBeLessThan(PROMPT_LIMITS.codeBytes + 200);
    expect(user).toMatch(/more lines not shown/);
    expect(user.match(/^- M\d+ \(note\)$/gm)!.length).toBeLessThanOrEqual(PROMPT_LIMITS.memories);
    expect(user).not.toContain("x".repeat(PROMPT_LIMITS.observationChars + 1));
    expect(user.length).toBeLessThan(64 * 1024);
  });

  it("masks secrets before they leave the cell and fences code that contains backticks", () => {
    const key = ["ghp_", "Z".repeat(36)].join("");
    const secretCode = `const token = "${key}";\nconst s = \`\`\`;`;
    const user = buildPrompt("analyze", secretCode, analyze(secretCode, { file: "s.ts" }), [
      { name: "token", entityType: "note", observations: [`old value ${key}`] },
    ])[1]!.content;
    expect(user).not.toContain(key);
    expect(user).toContain("````typescript");
  });

  it("asks the model for the action requested, and for analyze when the action is unknown", () => {
    for (const action of ACTIONS) {
      expect(isAction(action)).toBe(true);
      expect(buildPrompt(action, "x", analyze("x"), [])[1]!.content).toContain(`Action: ${action}`);
    }
    expect(isAction("delete")).toBe(false);
    expect(buildPrompt("nonsense", "x", analyze("x"), [])[1]!.content).toContain("Action: analyze");
  });
});

describe("POST /code-assist actions", () => {
  const DOCUMENTED = ["analyze", "explain", "review", "refactor", "generate", "document", "test"];

  it("accepts every documented action and refuses another with 400 listing them", async () => {
    for (const action of DOCUMENTED) {
      const res = await call("/code-assist", { code: "def f(x):\n    return x\n", language: "python", action });
      expect(res.status, action).toBe(200);
      expect((await res.json<{ action: string }>()).action).toBe(action);
    }
    const bad = await call("/code-assist", { code: "x = 1", action: "delete" });
    expect(bad.status).toBe(400);
    const body = await bad.json<{ error: string }>();
    expect(body.error).toContain('"delete"');
    expect(body.error).toContain(`valid actions: ${DOCUMENTED.join(", ")}`);
  });
});
