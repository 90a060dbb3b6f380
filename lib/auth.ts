/** Bearer-token checks for non-public endpoints. */
import { HttpError, unauthorized } from "./errors";

const trusted = new WeakSet<Request>();

/** Marks a request as coming from the local bridge over a service binding (never reachable from a socket). */
export function markTrusted(request: Request): void {
  trusted.add(request);
}

export function isTrusted(request: Request): boolean {
  return trusted.has(request);
}

async function digest(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
}

/** Constant-time comparison of two strings of any length (hashes first, so lengths match). */
export async function safeEqual(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([digest(a), digest(b)]);
  return crypto.subtle.timingSafeEqual(da, db);
}

export function bearer(request: Request): string | undefined {
  const h = request.headers.get("authorization");
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1];
}

/** Passes trusted local calls and requests with the right bearer token; refuses the rest with 401. */
export async function requireToken(request: Request, token: string | undefined): Promise<void> {
  if (isTrusted(request)) return;
  const given = bearer(request);
  if (!token)
    throw new HttpError(401, "this cell has no AIOS_API_TOKEN configured; only the local bridge may call this endpoint");
  if (!given) throw unauthorized("missing Authorization: Bearer <AIOS_API_TOKEN>");
  if (!(await safeEqual(given, token))) throw unauthorized("invalid API token");
}
