/** Signing and verifying inter-cell requests: the AIOS profile of RFC 9421 with Ed25519. */
import { componentValue, SignatureBaseError, serializeSignatureParams, signatureBase, type SignatureInput } from "./base";
import { checkContentDigest, contentDigest } from "./digest";
import { toBase64, toBase64Url, utf8 } from "../../../lib/encoding";
import { importPrivateKey, importPublicKey, signBytes, verifyBytes } from "./keys";
import type { ReplayGuard } from "./replay";
import { isInnerList, parseDictionary, type BareItem, type Params } from "./sf";

export const LABEL = "aios";
export const TAG = "aios-v1";
export const ALG = "ed25519";
export const CELL_HEADER = "x-aios-cell";
export const TARGET_HEADER = "x-aios-target";
/**
 * Every signature must cover these. `@query` is always covered (the lone "?" when there is none), so
 * a query cannot be added to a signed request. `@authority` is not: one cell is reached as an IP, a
 * host name, `<name>.local` or through a proxy, so the Host a sender saw is not the one we see.
 * Binding to the recipient is what `x-aios-target` (a cell id) is for.
 */
export const REQUIRED_COMPONENTS: readonly string[] = ["@method", "@path", "@query", "content-digest", CELL_HEADER];
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
const CELL_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export interface SigningKey {
  keyId: string;
  /** base64url PKCS #8, as generateKeyPair returns it. */
  privateKey: string;
  /** Sent as `x-aios-cell`. Default keyId. */
  cellId?: string;
}

export interface SignOptions {
  /** Milliseconds since the epoch. Default Date.now(). */
  now?: number;
  /** Default 16 random bytes, base64url. */
  nonce?: string;
  /** Default "aios-v1". */
  tag?: string;
  /** The recipient's cell id; sent as `x-aios-target` and covered, so the request cannot be replayed to another cell. */
  target?: string;
}

/** A copy of the request with `x-aios-cell`, `Content-Digest`, `Signature-Input` and `Signature` set (replacing any already there). */
export async function signRequest(request: Request, key: SigningKey, opts: SignOptions = {}): Promise<Request> {
  const body = new Uint8Array(await request.arrayBuffer());
  const headers = new Headers(request.headers);
  headers.set("content-digest", await contentDigest(body));
  headers.set(CELL_HEADER, key.cellId ?? key.keyId);
  const components = [...REQUIRED_COMPONENTS];
  if (opts.target !== undefined) {
    headers.set(TARGET_HEADER, opts.target);
    components.push(TARGET_HEADER);
  }
  const params: Params = new Map<string, BareItem>([
    ["created", Math.floor((opts.now ?? Date.now()) / 1000)],
    ["nonce", opts.nonce ?? toBase64Url(crypto.getRandomValues(new Uint8Array(16)))],
    ["keyid", key.keyId],
    ["alg", ALG],
    ["tag", opts.tag ?? TAG],
  ]);
  const input: SignatureInput = { components, params };
  const init = { method: request.method, headers, redirect: request.redirect, body: request.body === null ? null : body };
  const base = signatureBase(new Request(request.url, init), input);
  const signature = await signBytes(await importPrivateKey(key.privateKey), utf8(base));
  headers.set("signature-input", `${LABEL}=${serializeSignatureParams(input)}`);
  headers.set("signature", `${LABEL}=:${toBase64(signature)}:`);
  return new Request(request.url, init);
}

export interface VerifyOptions {
  seen: ReplayGuard;
  /** Milliseconds since the epoch. Default Date.now(). */
  now?: number;
  /** How far `created` may lie in the past or the future. Default 300. */
  maxSkewSeconds?: number;
  /** Default 4 MiB; a larger body is refused with 413. */
  maxBodyBytes?: number;
  /** Default "aios-v1". */
  tag?: string;
  /** This cell's id: when set, the signature must cover `x-aios-target` and name it. */
  target?: string;
}

export type VerifyResult =
  { ok: true; keyId: string; cellId: string; body: Uint8Array } | { ok: false; status: 401 | 400 | 413; reason: string };
type Failure = Extract<VerifyResult, { ok: false }>;

/**
 * The public key for keyId, or undefined if unknown. Must return a key only if it is the one pinned
 * to cellId (the sender's claimed `x-aios-cell`), or one admitted cell could speak as another.
 */
export type KeyLookup = (keyId: string, cellId: string) => Promise<string | undefined>;

const fail = (status: Failure["status"], reason: string): Failure => ({ ok: false, status, reason });

export interface ParsedSignature {
  input: SignatureInput;
  signature: Uint8Array;
  keyId: string;
  nonce: string;
  created: number;
  expires: number | undefined;
}

/** Reads our label's members of `Signature-Input` and `Signature`; other labels are ignored. */
export function parseSignatureHeaders(headers: Headers, tag: string = TAG): ParsedSignature | Failure {
  const inputField = headers.get("signature-input");
  const sigField = headers.get("signature");
  if (inputField === null || sigField === null) return fail(401, "request is not signed (no Signature-Input or Signature)");
  const inputs = parseDictionary(inputField);
  if (!inputs) return fail(400, "malformed Signature-Input");
  const sigs = parseDictionary(sigField);
  if (!sigs) return fail(400, "malformed Signature");
  const list = inputs.get(LABEL);
  const sig = sigs.get(LABEL);
  if (!list || !sig) return fail(401, `no "${LABEL}" signature`);
  if (!isInnerList(list)) return fail(400, `Signature-Input "${LABEL}" is not an inner list`);
  if (isInnerList(sig) || !(sig.value instanceof Uint8Array)) return fail(400, `Signature "${LABEL}" is not a byte sequence`);
  const components: string[] = [];
  for (const item of list.items) {
    if (typeof item.value !== "string" || item.params.size > 0) {
      return fail(400, "Signature-Input components must be plain strings");
    }
    components.push(item.value);
  }
  const p = list.params;
  if (p.get("tag") !== tag) return fail(401, `signature tag must be "${tag}"`);
  if (p.get("alg") !== ALG) return fail(401, `signature alg must be "${ALG}"`);
  const created = p.get("created");
  const expires = p.get("expires");
  const keyId = p.get("keyid");
  const nonce = p.get("nonce");
  if (typeof created !== "number") return fail(400, "signature needs an integer created");
  if (expires !== undefined && typeof expires !== "number") return fail(400, "signature expires must be an integer");
  if (typeof keyId !== "string" || keyId.length === 0 || keyId.length > 256)
    return fail(400, "signature needs a keyid (1-256 chars)");
  if (typeof nonce !== "string" || nonce.length === 0 || nonce.length > 128)
    return fail(400, "signature needs a nonce (1-128 chars)");
  return { input: { components, params: p }, signature: sig.value, keyId, nonce, created, expires };
}

/**
 * Checks a signed inter-cell request and reads its body (once; the bytes are returned). Never throws
 * on anything the request carries; it does pass on errors thrown by lookupKey or opts.seen.
 */
export async function verifyRequest(request: Request, lookupKey: KeyLookup, opts: VerifyOptions): Promise<VerifyResult> {
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const declared = request.headers.get("content-length");
  if (declared && /^[0-9]+$/.test(declared) && Number(declared) > maxBody) return tooBig(maxBody);

  const parsed = parseSignatureHeaders(request.headers, opts.tag);
  if ("ok" in parsed) return parsed;
  const { input, keyId, nonce, created } = parsed;

  const now = Math.floor((opts.now ?? Date.now()) / 1000);
  const skew = opts.maxSkewSeconds ?? 300;
  if (created < now - skew) return fail(401, `signature is stale (created ${now - created}s ago, limit ${skew}s)`);
  if (created > now + skew) return fail(401, `signature is from the future (created in ${created - now}s, limit ${skew}s)`);
  if (parsed.expires !== undefined && parsed.expires < now) return fail(401, "signature has expired");

  const missing = REQUIRED_COMPONENTS.filter((c) => !input.components.includes(c));
  if (missing.length > 0) return fail(401, `signature must cover ${missing.map((c) => `"${c}"`).join(", ")}`);
  if (opts.target !== undefined) {
    if (!input.components.includes(TARGET_HEADER) || componentValue(request, TARGET_HEADER) !== opts.target) {
      return fail(401, `signature must cover "${TARGET_HEADER}" naming this cell`);
    }
  }
  const cellId = request.headers.get(CELL_HEADER) ?? "";
  if (!CELL_ID.test(cellId)) return fail(400, `${CELL_HEADER} must be a cell id (a-z, 0-9, ".", "_", "-")`);

  let base: string;
  try {
    base = signatureBase(request, input);
  } catch (e) {
    if (e instanceof SignatureBaseError) return fail(401, e.message);
    return fail(400, "request URL or headers cannot be read");
  }
  const publicKey = await lookupKey(keyId, cellId);
  if (publicKey === undefined) return fail(401, `unknown key "${keyId}" for cell "${cellId}"`);
  const key = await importPublicKey(publicKey);
  if (!key) return fail(401, `key "${keyId}" is not a usable Ed25519 public key`);
  if (!(await verifyBytes(key, parsed.signature, utf8(base)))) return fail(401, "signature does not verify");

  const body = await readBody(request, maxBody);
  if (body === "too-big") return tooBig(maxBody);
  if (body === "unreadable") return fail(400, "request body could not be read");
  const digest = await checkContentDigest(request.headers.get("content-digest") ?? "", body);
  if (!digest.ok) return digest;

  // Last, so only a request that passed every other check uses up its nonce.
  if (await opts.seen.seen(keyId, nonce, created)) return fail(401, "nonce already used (replayed request)");
  return { ok: true, keyId, cellId, body };
}

const tooBig = (max: number): Failure => fail(413, `body is larger than ${max} bytes`);

/** Reads at most max bytes, whatever Content-Length claimed. */
async function readBody(request: Request, max: number): Promise<Uint8Array | "too-big" | "unreadable"> {
  if (request.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const chunk = value instanceof Uint8Array ? value : new Uint8Array(value as ArrayBuffer);
      total += chunk.byteLength;
      if (total > max) {
        await reader.cancel().catch(() => undefined);
        return "too-big";
      }
      chunks.push(chunk);
    }
  } catch {
    return "unreadable";
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
