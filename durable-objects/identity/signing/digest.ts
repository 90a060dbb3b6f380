/** RFC 9530 `Content-Digest` with sha-256, the only algorithm this profile sends or accepts. */
import { buffer, bytesEqual } from "../../../lib/encoding";
import { isInnerList, parseDictionary, serializeDictionary } from "./sf";

export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buffer(bytes)));
}

/** The `Content-Digest` field value for these body bytes, e.g. `sha-256=:X48E9q…=:`. */
export async function contentDigest(bytes: Uint8Array): Promise<string> {
  return serializeDictionary(new Map([["sha-256", { value: await sha256(bytes), params: new Map() }]]));
}

export type DigestCheck = { ok: true } | { ok: false; status: 400 | 401; reason: string };

/**
 * Checks a `Content-Digest` field value against the body. Other algorithms in the field are ignored,
 * but sha-256 must be there: a sender could otherwise pick one we cannot check.
 */
export async function checkContentDigest(field: string, body: Uint8Array): Promise<DigestCheck> {
  const dict = parseDictionary(field);
  if (!dict) return { ok: false, status: 400, reason: "malformed Content-Digest" };
  const member = dict.get("sha-256");
  if (!member) return { ok: false, status: 401, reason: "Content-Digest has no sha-256 digest" };
  if (isInnerList(member) || !(member.value instanceof Uint8Array)) {
    return { ok: false, status: 400, reason: "malformed Content-Digest: sha-256 is not a byte sequence" };
  }
  if (!bytesEqual(member.value, await sha256(body))) {
    return { ok: false, status: 401, reason: "body does not match Content-Digest" };
  }
  return { ok: true };
}
