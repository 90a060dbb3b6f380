/**
 * A lean keep-alive HTTP/1.1 client for latency figures: one pooled
 * connection per in-flight request and no per-request setup, so what a
 * figure shows is the server's time, not the client's (Node's fetch adds
 * about half a millisecond per request on loopback).
 */
import http from "node:http";

export interface JsonClient {
  post(url: string, body: unknown): Promise<unknown>;
  get(url: string): Promise<unknown>;
  close(): void;
}

export function jsonClient(headers: Record<string, string>, sockets = 16): JsonClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const send = (method: "GET" | "POST", url: string, body?: unknown) =>
    new Promise<unknown>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const sizes =
        payload === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) };
      const req = http.request(url, { method, agent, headers: { ...headers, ...sizes } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode !== 200) reject(new Error(`${url}: ${res.statusCode} ${text}`));
          else resolve(JSON.parse(text));
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(payload);
    });
  return {
    post: (url, body) => send("POST", url, body),
    get: (url) => send("GET", url),
    close: () => agent.destroy(),
  };
}
