/**
 * Ed25519 keys as text. The public key is the raw 32-byte key, the private key its PKCS #8 encoding
 * (the body of a `-----BEGIN PRIVATE KEY-----` PEM), both base64url without padding.
 */
import { buffer, fromBase64Url, toBase64Url } from "../../../lib/encoding";

const ED25519 = { name: "Ed25519" };

export interface KeyPair {
  /** base64url of the raw 32-byte public key. */
  publicKey: string;
  /** base64url of the PKCS #8 private key. */
  privateKey: string;
}

export async function generateKeyPair(): Promise<KeyPair> {
  const pair = (await crypto.subtle.generateKey(ED25519, true, ["sign", "verify"])) as CryptoKeyPair;
  const raw = (await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer;
  const pkcs8 = (await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer;
  return { publicKey: toBase64Url(new Uint8Array(raw)), privateKey: toBase64Url(new Uint8Array(pkcs8)) };
}

/** `undefined` if the text is not a base64url 32-byte Ed25519 public key. */
export async function importPublicKey(text: string): Promise<CryptoKey | undefined> {
  const raw = fromBase64Url(text);
  if (!raw || raw.byteLength !== 32) return undefined;
  try {
    return await crypto.subtle.importKey("raw", buffer(raw), ED25519, false, ["verify"]);
  } catch {
    return undefined;
  }
}

/** Throws on a malformed key: a bad private key is our own configuration error, never peer input. */
export async function importPrivateKey(text: string): Promise<CryptoKey> {
  const pkcs8 = fromBase64Url(text);
  if (!pkcs8) throw new TypeError("private key is not base64url");
  return crypto.subtle.importKey("pkcs8", buffer(pkcs8), ED25519, false, ["sign"]);
}

export async function signBytes(key: CryptoKey, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign(ED25519, key, buffer(data)));
}

export async function verifyBytes(key: CryptoKey, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
  if (signature.byteLength !== 64) return false;
  try {
    return await crypto.subtle.verify(ED25519, key, buffer(signature), buffer(data));
  } catch {
    return false;
  }
}
