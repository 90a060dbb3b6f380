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

/** The configured token's digest, computed once per isolate rather than on every request. */
let expected: { known: string; digest: Promise<ArrayBuffer> } | undefined;

/** Constant-time comparison of a given secret with a known one, of any lengths (hashes first, so lengths match). */
export async function safeEqual(given: string, known: string): Promise<boolean> {
  if (expected?.known !== known) expected = { known, digest: digest(known) };
  const [a, b] = await Promise.all([digest(given), expected.digest]);
  return crypto.subtle.timingSafeEqual(a, b);
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
