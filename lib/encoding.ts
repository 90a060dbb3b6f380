/** Byte encodings and a constant-time comparison, on web-standard APIs only. */

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export function toBase64(bytes: Uint8Array): string {
  let bin = "";
  // Chunked so large inputs stay clear of the engine's argument-count limit.
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** Standard base64 (padding optional, as RFC 8941 asks parsers to allow); `undefined` if not base64. */
export function fromBase64(b64: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return undefined;
  try {
    const bin = atob(b64);
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** base64url without padding (RFC 4648 section 5); `undefined` if not base64url. */
export function fromBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  return fromBase64(text.replace(/-/g, "+").replace(/_/g, "/"));
}

/** Constant-time for equal lengths; a length mismatch answers early, since lengths here are public (fixed-size MACs and hashes). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  // workerd's extension to WebCrypto; typed here so this file also checks under Node's DOM types.
  const subtle = crypto.subtle as SubtleCrypto & { timingSafeEqual(a: ArrayBufferView, b: ArrayBufferView): boolean };
  return subtle.timingSafeEqual(a, b);
}

/** The bytes as WebCrypto's BufferSource (an ArrayBuffer-backed view), copying only when they are not. */
export function buffer(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return b.buffer instanceof ArrayBuffer ? (b as Uint8Array<ArrayBuffer>) : new Uint8Array(b);
}
