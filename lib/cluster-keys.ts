/**
 * Keys derived one way from AIOS_CLUSTER_SECRET (HKDF-SHA-256, WebCrypto only):
 *  - the content key (AES-256-GCM): seals memory content before it leaves a cell for a relay; it
 *    never leaves the cells;
 *  - the id key (HMAC-SHA-256): turns ids that would reveal content (an entity's name, an
 *    observation's tag) into keyed hashes the relay can merge on;
 *  - the relay key: what a relay is given to admit cells (text, for `wrangler secret put`).
 * Each is a separate HKDF output, so holding the relay key (or any sealed row) gives no way to the
 * content key or the id key.
 */
import { buffer, fromBase64Url, toBase64Url, utf8 } from "./encoding";

const SALT = "aios-cluster-v1";
const INFO = { relay: "aios-relay-key-v1", content: "aios-content-key-v1", ids: "aios-id-key-v1" } as const;
const IV_BYTES = 12;
const ID_BYTES = 24;

async function hkdfBase(secret: string): Promise<CryptoKey> {
  if (!secret) throw new TypeError("the cluster secret is empty");
  return crypto.subtle.importKey("raw", buffer(utf8(secret)), "HKDF", false, ["deriveBits", "deriveKey"]);
}

const params = (info: string) => ({
  name: "HKDF",
  hash: "SHA-256",
  salt: buffer(utf8(SALT)),
  info: buffer(utf8(info)),
});

/** The relay key: base64url of 32 bytes derived from the cluster secret. */
export async function deriveRelayKey(secret: string): Promise<string> {
  const bits = await crypto.subtle.deriveBits(params(INFO.relay), await hkdfBase(secret), 256);
  return toBase64Url(new Uint8Array(bits));
}

/** The keys that stay on the cells. */
export interface ContentKeys {
  content: CryptoKey;
  ids: CryptoKey;
}

export async function deriveContentKeys(secret: string): Promise<ContentKeys> {
  const base = await hkdfBase(secret);
  const [content, ids] = await Promise.all([
    crypto.subtle.deriveKey(params(INFO.content), base, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]),
    crypto.subtle.deriveKey(params(INFO.ids), base, { name: "HMAC", hash: "SHA-256", length: 256 }, false, ["sign"]),
  ]);
  return { content, ids };
}

/** A keyed hash of an id: equal ids give equal hashes for every holder of the secret, and nothing else. */
export async function keyedId(keys: ContentKeys, id: string): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", keys.ids, buffer(utf8(id))));
  return toBase64Url(mac.subarray(0, ID_BYTES));
}

/**
 * Seals text with AES-GCM under a fresh random IV: base64url(iv || ciphertext || tag). `bound`
 * (authenticated, not encrypted) ties the box to where it is stored: opened with other `bound`
 * text, it does not open.
 */
export async function seal(keys: ContentKeys, text: string, bound: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ct = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: buffer(utf8(bound)) }, keys.content, buffer(utf8(text))),
  );
  const out = new Uint8Array(IV_BYTES + ct.byteLength);
  out.set(iv);
  out.set(ct, IV_BYTES);
  return toBase64Url(out);
}

/** The text `seal` sealed, or undefined if the box is malformed, altered, bound elsewhere or sealed with another key. */
export async function open(keys: ContentKeys, sealed: string, bound: string): Promise<string | undefined> {
  const bytes = fromBase64Url(sealed);
  if (!bytes || bytes.byteLength < IV_BYTES + 16) return undefined;
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: buffer(bytes.slice(0, IV_BYTES)), additionalData: buffer(utf8(bound)) },
      keys.content,
      buffer(bytes.slice(IV_BYTES)),
    );
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(plain);
  } catch {
    return undefined;
  }
}
