/** Bearer-token checks for non-public endpoints, and telling signed requests apart. */
import { HttpError, unauthorized } from "./errors";

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

/** Passes requests with the right bearer token; refuses the rest with 401. */
export function requireToken(request: Request, token: string | undefined): void {
  const given = bearer(request);
  if (!token)
    throw new HttpError(
      401,
      "this cell has no AIOS_API_TOKEN configured; only the local bridge (over its typed calls) reaches this",
    );
  if (!given) throw unauthorized("missing Authorization: Bearer <AIOS_API_TOKEN>");
  if (!safeEqual(given, token)) throw unauthorized("invalid API token");
}

/** A request that carries an HTTP message signature (RFC 9421), which another cell made. */
export function isSigned(request: Request): boolean {
  return request.headers.has("signature") || request.headers.has("signature-input");
}
