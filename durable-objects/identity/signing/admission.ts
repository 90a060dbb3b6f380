/**
 * Proof that a joining cell knows AIOS_CLUSTER_SECRET, bound to the public key it asks to pin to its
 * cell id. The secret itself never crosses the network. A captured proof replayed inside the window
 * can only re-register that same key for that same cell, which grants the replayer nothing. It is an
 * HMAC, so a weak secret can be guessed offline from a captured proof: use a long random one.
 */
import { buffer, bytesEqual, fromBase64Url, toBase64Url, utf8 } from "../../../lib/encoding";

export const ADMISSION_CONTEXT = "aios-admit-v1";

// Neither part may hold the separator, or two different (cellId, publicKey) pairs could share a message.
const CELL_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const PUBLIC_KEY = /^[A-Za-z0-9_-]{1,256}$/;

function wellFormed(cellId: string, publicKey: string): boolean {
  return typeof cellId === "string" && typeof publicKey === "string" && CELL_ID.test(cellId) && PUBLIC_KEY.test(publicKey);
}

function message(cellId: string, publicKey: string, created: number): Uint8Array {
  return utf8(`${ADMISSION_CONTEXT}\n${cellId}\n${publicKey}\n${created}`);
}

async function hmac(secret: string, data: Uint8Array): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", buffer(utf8(secret)), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, buffer(data)));
}

/** base64url(HMAC-SHA256(secret, "aios-admit-v1\n<cellId>\n<publicKey>\n<created>")); created in Unix seconds. */
export async function admissionProof(secret: string, cellId: string, publicKey: string, created: number): Promise<string> {
  if (!wellFormed(cellId, publicKey)) throw new TypeError("cell id or public key is malformed");
  if (!Number.isSafeInteger(created)) throw new TypeError("created must be an integer (Unix seconds)");
  return toBase64Url(await hmac(secret, message(cellId, publicKey, created)));
}

export interface AdmissionOptions {
  /** Milliseconds since the epoch. Default Date.now(). */
  now?: number;
  /** How far `created` may lie in the past or future. Default 300. */
  maxSkewSeconds?: number;
}

export type AdmissionResult = { ok: true } | { ok: false; reason: string };

export async function verifyAdmissionProof(
  secret: string,
  cellId: string,
  publicKey: string,
  created: number,
  proof: string,
  opts: AdmissionOptions = {},
): Promise<AdmissionResult> {
  if (!secret) return { ok: false, reason: "this cell has no cluster secret" };
  if (!wellFormed(cellId, publicKey)) return { ok: false, reason: "cell id or public key is malformed" };
  if (!Number.isSafeInteger(created)) return { ok: false, reason: "created must be an integer (Unix seconds)" };
  const now = Math.floor((opts.now ?? Date.now()) / 1000);
  const skew = opts.maxSkewSeconds ?? 300;
  if (Math.abs(now - created) > skew) return { ok: false, reason: `admission proof is outside the ${skew}s window` };
  const given = typeof proof === "string" ? fromBase64Url(proof) : undefined;
  const expected = await hmac(secret, message(cellId, publicKey, created));
  if (!given || !bytesEqual(given, expected)) return { ok: false, reason: "admission proof does not match the cluster secret" };
  return { ok: true };
}
