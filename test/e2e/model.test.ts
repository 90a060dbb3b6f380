/**
 * The code-assistance model layer end to end: a real stack talks to a local
 * OpenAI-compatible test server on loopback, which records every request, so
 * we check the exact request the cell sends and how it handles answers,
 * errors and timeouts (through the cell and through the bridge).
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TestStack } from "../../harness/stack";

const MODEL_IP = "127.0.43.1";
const STACK_IP = "127.0.43.2";
const API_KEY = "sk-test-9f8e7d6c5b4a39281706f5e4d3c2b1a0";
const TOKEN = "model-e2e-token";
const TIMEOUT_MS = 1500;
const NAMESPACE = "billing";

const CODE = [
  "function parseInvoice(text) {",
  "  // TODO: validate the currency",
  "  const data = JSON.parse(text);",
  "  if (data.total == 0) return 0;",
  "  return data.total;",
  "}",
  "",
].join("\n");
const MEMORY = {
  name: "parseInvoice",
  entityType: "function",
  observations: ["parseInvoice must reject negative totals (ticket FIN-42)"],
};
const CONTENT = "The function trusts its input: reject negative totals as FIN-42 asks, and use ===.";
const USAGE = { prompt_tokens: 321, completion_tokens: 45, total_tokens: 366 };

type Mode = "ok" | "rate_limited" | "server_error" | "malformed" | "hang";

interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  raw: string;
  body: unknown;
}

interface Answer {
  action: string;
  source: string;
  layer: string;
  fallback?: boolean;
  model: { content: string; model: string; usage: unknown; ms: number } | null;
  model_error?: { kind: string; message: string; status: number | null; retry_after: number | null };
  memories_used?: string[];
  analysis: { outline: { name: string }[]; findings: { rule: string; line: number; severity: string; message: string }[] };
}

/** The OpenAI-compatible test server: answers as `mode` says and records each request. */
class ModelServer {
  mode: Mode = "ok";
  requests: Recorded[] = [];
  private server: Server;
  private hanging = new Set<ServerResponse>();
  port = 0;

  constructor() {
    this.server = createServer((req, res) => {
      let raw = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => (raw += chunk));
      req.on("end", () => {
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          body = undefined;
        }
        this.requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, raw, body });
        this.answer(req, res, body);
      });
    });
  }

  private answer(req: IncomingMessage, res: ServerResponse, body: unknown): void {
    const send = (status: number, payload: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(payload);
    };
    if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
      send(404, JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
      return;
    }
    switch (this.mode) {
      case "ok":
        send(
          200,
          JSON.stringify({
            id: `chatcmpl-${this.requests.length}`,
            object: "chat.completion",
            created: Math.floor(Date.now() / 1000),
            model: (body as { model?: string } | undefined)?.model ?? "unknown",
            choices: [{ index: 0, message: { role: "assistant", content: CONTENT }, finish_reason: "stop" }],
            usage: USAGE,
          }),
        );
        return;
      case "rate_limited":
        // Servers do echo keys back in errors; the cell must scrub it.
        send(429, JSON.stringify({ error: { message: `Rate limit reached for key ${API_KEY}`, type: "rate_limit_exceeded" } }), {
          "retry-after": "7",
        });
        return;
      case "server_error":
        send(500, JSON.stringify({ error: { message: `internal error (key ${API_KEY})`, type: "server_error" } }));
        return;
      case "malformed":
        send(200, '{"id": "chatcmpl-x", "choices": [{"message": {"content": "cut off');
        return;
      case "hang":
        // Never answers; released in close().
        this.hanging.add(res);
        return;
    }
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, MODEL_IP, () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://${MODEL_IP}:${this.port}`;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe("code assistance with a model", () => {
  const model = new ModelServer();
  let stack: TestStack;
  const bodies: string[] = [];

  const viaCell = async (action = "review"): Promise<{ status: number; answer: Answer; ms: number }> => {
    const t = Date.now();
    const r = await stack.api("/code-assist", {
      method: "POST",
      body: JSON.stringify({ code: CODE, action, file: "src/invoice.js", namespace: NAMESPACE }),
    });
    const text = await r.text();
    bodies.push(text);
    return { status: r.status, answer: JSON.parse(text) as Answer, ms: Date.now() - t };
  };
  const viaBridge = async (action = "explain"): Promise<{ status: number; answer: Answer }> => {
    const r = await fetch(stack.url("bridge", "/code-assist"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code: CODE, action, file: "src/invoice.js", namespace: NAMESPACE }),
    });
    const text = await r.text();
    bodies.push(text);
    return { status: r.status, answer: JSON.parse(text) as Answer };
  };

  beforeAll(async () => {
    await model.listen();
    stack = await TestStack.start({
      ip: STACK_IP,
      cellId: "model-cell",
      env: {
        AIOS_API_TOKEN: TOKEN,
        AIOS_MODEL_URL: model.url,
        AIOS_MODEL: "test-model",
        AIOS_MODEL_API_KEY: API_KEY,
        AIOS_MODEL_TIMEOUT_MS: String(TIMEOUT_MS),
      },
    });
    const r = await stack.api("/memory/create_entities", {
      method: "POST",
      body: JSON.stringify({ namespace: NAMESPACE, entities: [MEMORY] }),
    });
    expect(r.status).toBe(200);
  });

  afterAll(async () => {
    await stack?.stop();
    await model.close();
    if (stack) rmSync(stack.dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    model.mode = "ok";
    model.requests = [];
  });

  it("sends the exact OpenAI request: path, bearer key, model, prompt with findings and memories, no streaming", async () => {
    const { status, answer } = await viaCell("review");
    expect(status).toBe(200);
    expect(model.requests).toHaveLength(1);
    const req = model.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("/v1/chat/completions");
    expect(req.headers["authorization"]).toBe(`Bearer ${API_KEY}`);
    expect(req.headers["content-type"]).toMatch(/^application\/json/);
    const body = req.body as {
      model: string;
      messages: { role: string; content: string }[];
      stream: boolean;
      temperature: number;
      max_tokens: number;
    };
    expect(Object.keys(body).sort()).toEqual(["max_tokens", "messages", "model", "stream", "temperature"]);
    expect(body.model).toBe("test-model");
    expect(body.stream).toBe(false);
    expect(body.max_tokens).toBeGreaterThan(0);
    expect(body.messages.map((m) => m.role)).toEqual(["system", "user"]);
    const [system, user] = [body.messages[0]!, body.messages[1]!];
    expect(system.content).toMatch(/Review the code/);
    expect(user.content).toContain("Action: review");
    expect(user.content).toContain("File: src/invoice.js");
    expect(user.content).toContain("Language: javascript");
    // Every built-in finding reaches the model with its line, and the outline too.
    expect(user.content).toContain("Built-in analysis:");
    expect(answer.analysis.findings.length).toBeGreaterThanOrEqual(2);
    expect(answer.analysis.findings).toContainEqual(expect.objectContaining({ rule: "todo", line: 2 }));
    expect(answer.analysis.findings).toContainEqual(expect.objectContaining({ rule: "eqeqeq", line: 4 }));
    for (const f of answer.analysis.findings) {
      expect(user.content).toContain(`- line ${f.line} [${f.severity}] ${f.rule}: ${f.message}`);
    }
    expect(user.content).toMatch(/- function parseInvoice: lines 1-6/);
    // The shared memory, found by the function's name.
    expect(user.content).toContain("Shared memories:\n- parseInvoice (function)");
    expect(user.content).toContain(MEMORY.observations[0]);
    expect(user.content).toContain(CODE.trimEnd());
  });

  it("answers model+builtin with the model's content, usage and the memories used, and keeps the built-in analysis", async () => {
    const { status, answer } = await viaCell("review");
    expect(status).toBe(200);
    expect(answer.layer).toBe("model+builtin");
    expect(answer.fallback).toBeUndefined();
    expect(answer.action).toBe("review");
    expect(answer.model).toEqual(
      expect.objectContaining({ content: CONTENT, model: "test-model", usage: USAGE, ms: expect.any(Number) as number }),
    );
    expect(answer.memories_used).toEqual(["parseInvoice"]);
    expect(answer.analysis.outline.map((o) => o.name)).toContain("parseInvoice");
    expect(answer.analysis.findings.some((f) => f.rule === "todo")).toBe(true);
  });

  it("the bridge's /code-assist (no token) gives the same model answer and sends the same kind of request", async () => {
    const { status, answer } = await viaBridge("explain");
    expect(status).toBe(200);
    expect(answer.source).toBe("cell");
    expect(answer.layer).toBe("model+builtin");
    expect(answer.model?.content).toBe(CONTENT);
    expect(answer.memories_used).toEqual(["parseInvoice"]);
    expect(answer.analysis.findings.some((f) => f.rule === "todo" && f.line === 2)).toBe(true);
    expect(model.requests).toHaveLength(1);
    const req = model.requests[0]!;
    expect(req.url).toBe("/v1/chat/completions");
    expect(req.headers["authorization"]).toBe(`Bearer ${API_KEY}`);
    const body = req.body as { model: string; stream: boolean; messages: { content: string }[] };
    expect(body.model).toBe("test-model");
    expect(body.stream).toBe(false);
    expect(body.messages[0]!.content).toMatch(/Explain what the code does/);
    expect(body.messages[1]!.content).toContain("Action: explain");
    expect(body.messages[1]!.content).toContain(MEMORY.observations[0]);
  });

  it("429 with Retry-After falls back to the built-in layer as rate_limited, with the key scrubbed", async () => {
    model.mode = "rate_limited";
    const { status, answer } = await viaCell();
    expect(status).toBe(200);
    expect(model.requests).toHaveLength(1);
    expect(answer.layer).toBe("builtin");
    expect(answer.fallback).toBe(true);
    expect(answer.model).toBeNull();
    expect(answer.model_error).toEqual(
      expect.objectContaining({
        kind: "rate_limited",
        status: 429,
        retry_after: 7,
        message: expect.stringMatching(/rate limit/i) as string,
      }),
    );
    expect(answer.model_error!.message).toContain("[redacted]");
    expect(answer.memories_used).toEqual(["parseInvoice"]);
    expect(answer.analysis.findings.some((f) => f.rule === "todo" && f.line === 2)).toBe(true);
  });

  it("500 falls back as http_error", async () => {
    model.mode = "server_error";
    const { status, answer } = await viaCell();
    expect(status).toBe(200);
    expect(answer.layer).toBe("builtin");
    expect(answer.fallback).toBe(true);
    expect(answer.model_error).toEqual(expect.objectContaining({ kind: "http_error", status: 500, retry_after: null }));
    expect(answer.model_error!.message).toMatch(/answered 500/);
    expect(answer.analysis.outline.map((o) => o.name)).toContain("parseInvoice");
    // Through the bridge as well.
    const bridged = await viaBridge();
    expect(bridged.status).toBe(200);
    expect(bridged.answer).toEqual(expect.objectContaining({ layer: "builtin", fallback: true, source: "cell", model: null }));
    expect(bridged.answer.model_error?.kind).toBe("http_error");
  });

  it("malformed JSON falls back as bad_response", async () => {
    model.mode = "malformed";
    const { status, answer } = await viaCell();
    expect(status).toBe(200);
    expect(answer.layer).toBe("builtin");
    expect(answer.fallback).toBe(true);
    expect(answer.model_error).toEqual(expect.objectContaining({ kind: "bad_response", status: 200 }));
    expect(answer.analysis.findings.length).toBeGreaterThan(0);
  });

  it("a model that never answers times out after AIOS_MODEL_TIMEOUT_MS and falls back", async () => {
    model.mode = "hang";
    const { status, answer, ms } = await viaCell();
    expect(status).toBe(200);
    expect(model.requests).toHaveLength(1);
    expect(answer.layer).toBe("builtin");
    expect(answer.fallback).toBe(true);
    expect(answer.model_error).toEqual(expect.objectContaining({ kind: "timeout", status: null }));
    expect(answer.model_error!.message).toContain(`${TIMEOUT_MS} ms`);
    // The configured timeout, not the 30 s default.
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
    expect(ms).toBeLessThan(TIMEOUT_MS + 8000);
    expect(answer.analysis.findings.some((f) => f.rule === "todo")).toBe(true);
    // Through the bridge too (its own deadline is far longer than the model's).
    const bridged = await viaBridge();
    expect(bridged.status).toBe(200);
    expect(bridged.answer.model_error?.kind).toBe("timeout");
  });

  it("the API key never appears in any response body or in the stack's output and log files", () => {
    expect(bodies.length).toBeGreaterThanOrEqual(8);
    for (const b of bodies) expect(b).not.toContain(API_KEY);
    expect(stack.output.length).toBeGreaterThan(0);
    expect(stack.output).not.toContain(API_KEY);
    const logDir = path.join(stack.dir, "logs");
    const files = readdirSync(logDir).filter((f) => f.endsWith(".log"));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(readFileSync(path.join(logDir, f), "utf8")).not.toContain(API_KEY);
  });
});
