/** HTTP to the bridge: bounded in time, and failures phrased for a person reading a status bar or a message. */

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** The bridge did not answer, or answered with an error. `reachable` is false when nothing answered at all. */
export class BridgeError extends Error {
  constructor(
    message: string,
    readonly reachable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = "BridgeError";
  }
}

export const DEFAULT_TIMEOUT_MS = 5000;

/** One request; the answer's JSON, or a BridgeError that says what went wrong in words. */
export async function requestJson(
  fetchImpl: FetchLike,
  url: string,
  init: RequestInit = {},
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<unknown> {
  let res: Response;
  try {
    res = await fetchImpl(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const err = e as Error;
    const why = err.name === "TimeoutError" ? `no answer within ${timeoutMs / 1000} s` : "nothing answers there";
    throw new BridgeError(`the AIOS stack is not running (${why}: ${new URL(url).origin})`, false);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const said =
      body && typeof body === "object" && "error" in body ? String((body as { error: unknown }).error) : text.slice(0, 200);
    throw new BridgeError(`the bridge answered ${res.status}${said ? `: ${said}` : ""}`, true, res.status);
  }
  if (body === undefined && text) throw new BridgeError(`the bridge answered ${res.status} without JSON`, true, res.status);
  return body;
}

/** The base URL without a trailing slash; throws a clear error for anything that is not http(s). */
export function normaliseBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error(`aios.bridgeUrl "${raw}" is not a URL (expected e.g. http://127.0.0.1:3001)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new Error(`aios.bridgeUrl "${raw}" must start with http:// or https://`);
  return url.href.replace(/\/+$/, "");
}
