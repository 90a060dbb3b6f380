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

/**
 * Constant-time comparison of a given secret with the known one: every character of `known` is
 * compared whatever `given` holds, so the time depends on the known secret's length alone. (Plain
 * JS: hashing both first with SubtleCrypto cost more than the rest of a small authorised request.)
 */
export function safeEqual(given: string, known: string): boolean {
  let diff = given.length ^ known.length;
  for (let i = 0; i < known.length; i++) diff |= known.charCodeAt(i) ^ (i < given.length ? given.charCodeAt(i) : 0);
  return diff === 0;
}

export function bearer(request: Request): string | undefined {
  const h = request.headers.get("authorization");
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1];
}

/** Passes trusted local calls and requests with the right bearer token; refuses the rest with 401. */
export function requireToken(request: Request, token: string | undefined): void {
  if (isTrusted(request)) return;
  const given = bearer(request);
  if (!token)
    throw new HttpError(401, "this cell has no AIOS_API_TOKEN configured; only the local bridge may call this endpoint");
  if (!given) throw unauthorized("missing Authorization: Bearer <AIOS_API_TOKEN>");
  if (!safeEqual(given, token)) throw unauthorized("invalid API token");
}
