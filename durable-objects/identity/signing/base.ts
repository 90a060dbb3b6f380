/** RFC 9421 component values and the signature base (section 2.5). */
import { serializeInnerList, type Params } from "./sf";

/** The covered components and parameters of one signature, i.e. one `Signature-Input` member. */
export interface SignatureInput {
  /** Component identifiers: derived (`@method`) or lower-case field names, without component parameters. */
  components: string[];
  params: Params;
}

export class SignatureBaseError extends Error {}

/** The `@signature-params` value, which is also the `Signature-Input` member value. */
export function serializeSignatureParams(input: SignatureInput): string {
  return serializeInnerList({ items: input.components.map((c) => ({ value: c, params: new Map() })), params: input.params });
}

/** A component's value for this request, or `undefined` if the request has no such component. */
export function componentValue(request: Request, name: string): string | undefined {
  if (!name.startsWith("@")) return request.headers.get(name) ?? undefined;
  const url = new URL(request.url);
  switch (name) {
    case "@method":
      return request.method;
    case "@target-uri":
      return request.url;
    case "@authority":
      return url.host;
    case "@scheme":
      return url.protocol.slice(0, -1);
    case "@request-target":
      return url.pathname + url.search;
    case "@path":
      return url.pathname || "/";
    case "@query":
      // RFC 9421 2.2.7: an absent or empty query is the lone "?".
      return url.search || "?";
    default:
      return undefined;
  }
}

/**
 * The signature base (RFC 9421 section 2.5) as the exact string that is signed. Throws
 * SignatureBaseError when a covered component is repeated, upper-case, unknown or absent.
 */
export function signatureBase(request: Request, input: SignatureInput): string {
  const seen = new Set<string>();
  let base = "";
  for (const name of input.components) {
    if (seen.has(name)) throw new SignatureBaseError(`component "${name}" is covered twice`);
    seen.add(name);
    if (name !== name.toLowerCase()) throw new SignatureBaseError(`component "${name}" is not lower-case`);
    const value = componentValue(request, name);
    if (value === undefined) throw new SignatureBaseError(`covered component "${name}" is missing or unsupported`);
    if (/[^\t\x20-\x7e]/.test(value)) throw new SignatureBaseError(`component "${name}" has a non-ASCII value`);
    base += `"${name}": ${value}\n`;
  }
  return `${base}"@signature-params": ${serializeSignatureParams(input)}`;
}
