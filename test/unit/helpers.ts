import { runInDurableObject, SELF } from "cloudflare:test";
import type { DurableObject } from "cloudflare:workers";

export const TOKEN = "unit-token";

/** Calls the cell with the API token; each test uses its own namespace, so none depends on another. */
export async function call(path: string, body?: unknown, method = body === undefined ? "GET" : "POST"): Promise<Response> {
  return SELF.fetch(`http://cell.test${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
}

export async function ok<T = Record<string, unknown>>(path: string, body?: unknown, method?: string): Promise<T> {
  const res = await call(path, body, method);
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  return res.json<T>();
}

let n = 0;
export const freshNamespace = () => `t${Date.now().toString(36)}${(n++).toString(36)}`;

/**
 * Runs `fn` inside the Durable Object behind `stub`, in this isolate, with the object typed as its
 * class (the pool's own typing wants the test worker's Env on every class).
 */
export function inObject<T, R>(
  stub: DurableObjectStub<never> | DurableObjectStub,
  fn: (object: T, state: DurableObjectState) => R | Promise<R>,
): Promise<R> {
  return runInDurableObject(stub as unknown as DurableObjectStub<DurableObject>, (o, s) => fn(o as unknown as T, s));
}
