/**
 * The one way cells talk to each other: requests signed by this cell's
 * CellIdentity, and verification of the ones we receive. Discovery and the
 * sync loop both use it.
 */
import type { CellIdentity } from "../cell-identity";
import { HttpError } from "../../lib/errors";

export type IdentityStub = DurableObjectStub<CellIdentity>;

export function identityOf(ns: DurableObjectNamespace<CellIdentity>): IdentityStub {
  return ns.get(ns.idFromName("identity"));
}

export interface SignedResult {
  status: number;
  text: string;
  /** Bytes on the wire, both ways, as HTTP/1.1 frames them (request line, headers, body). */
  bytesSent: number;
  bytesReceived: number;
  ms: number;
}

function headerBytes(h: Headers): number {
  let n = 0;
  h.forEach((value, name) => (n += name.length + value.length + 4));
  return n;
}

/** A signed JSON POST to another cell, addressed to its id; throws on network failure or timeout. */
export async function signedPost(
  identity: IdentityStub,
  url: string,
  target: string,
  body: unknown,
  timeoutMs: number,
): Promise<SignedResult> {
  const started = Date.now();
  const payload = JSON.stringify(body);
  const request = new Request(url, { method: "POST", headers: { "content-type": "application/json" }, body: payload });
  const signed = await identity.sign(request, target);
  const sentHeaders = headerBytes(signed.headers);
  const res = await fetch(signed, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  const u = new URL(url);
  return {
    status: res.status,
    text,
    bytesSent:
      `POST ${u.pathname} HTTP/1.1\r\nhost: ${u.host}\r\n`.length +
      sentHeaders +
      2 +
      new TextEncoder().encode(payload).byteLength,
    bytesReceived:
      `HTTP/1.1 ${res.status} OK\r\n`.length + headerBytes(res.headers) + 2 + new TextEncoder().encode(text).byteLength,
    ms: Date.now() - started,
  };
}

/** Verifies a request from another cell (a signature by the key pinned to its id); returns who and the body. */
export async function verifyCell(
  request: Request,
  identity: IdentityStub,
  maxBodyBytes: number,
): Promise<{ cell: string; body: string }> {
  const v = await identity.verify(request, maxBodyBytes);
  if (!v.ok) throw new HttpError(v.status, `signature refused: ${v.reason}`);
  return { cell: v.cellId, body: new TextDecoder().decode(v.body) };
}
