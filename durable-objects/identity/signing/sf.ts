/**
 * The parts of RFC 8941 Structured Field Values that RFC 9421 and RFC 9530 need: Dictionaries whose
 * members are Items or Inner Lists, with Parameters. Parsing is strict (a malformed field is refused
 * as a whole, as RFC 8941 section 4.2 asks) and never throws: it returns `undefined` instead.
 */
import { fromBase64, toBase64 } from "../../../lib/encoding";

/** A Token, kept apart from a String so it serializes back unquoted. */
export class Token {
  constructor(readonly value: string) {}
}

/** A Decimal, kept apart from an Integer so it serializes back with its fraction. */
export class Decimal {
  constructor(readonly value: number) {}
}

export type BareItem = string | number | boolean | Uint8Array | Token | Decimal;
/** Insertion-ordered; a repeated key keeps its first position and its last value (RFC 8941 4.2.3.2). */
export type Params = Map<string, BareItem>;
export interface Item {
  value: BareItem;
  params: Params;
}
export interface InnerList {
  items: Item[];
  params: Params;
}
export type Member = Item | InnerList;
export type Dictionary = Map<string, Member>;

export function isInnerList(m: Member): m is InnerList {
  return "items" in m;
}

class Fail extends Error {}

const KEY_START = /[a-z*]/;
const KEY_CHAR = /[a-z0-9_\-.*]/;
const TOKEN_START = /[A-Za-z*]/;
const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z:/]/;
const BASE64_CHAR = /[A-Za-z0-9+/=]/;

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  private peek(): string {
    return this.s[this.i] ?? "";
  }
  private eof(): boolean {
    return this.i >= this.s.length;
  }
  private expect(c: string): void {
    if (this.s[this.i] !== c) throw new Fail(`expected "${c}" at ${this.i}`);
    this.i++;
  }
  private skip(re: RegExp): void {
    while (!this.eof() && re.test(this.peek())) this.i++;
  }

  dictionary(): Dictionary {
    const dict: Dictionary = new Map();
    this.skip(/ /);
    while (!this.eof()) {
      const key = this.key();
      let member: Member;
      if (this.peek() === "=") {
        this.i++;
        member = this.peek() === "(" ? this.innerList() : this.item();
      } else {
        member = { value: true, params: this.params() };
      }
      dict.set(key, member);
      this.skip(/[ \t]/);
      if (this.eof()) break;
      this.expect(",");
      this.skip(/[ \t]/);
      if (this.eof()) throw new Fail("trailing comma");
    }
    return dict;
  }

  innerList(): InnerList {
    this.expect("(");
    const items: Item[] = [];
    for (;;) {
      this.skip(/ /);
      if (this.peek() === ")") {
        this.i++;
        return { items, params: this.params() };
      }
      items.push(this.item());
      if (this.peek() !== " " && this.peek() !== ")") throw new Fail(`bad inner list at ${this.i}`);
    }
  }

  item(): Item {
    const value = this.bareItem();
    return { value, params: this.params() };
  }

  private params(): Params {
    const params: Params = new Map();
    while (this.peek() === ";") {
      this.i++;
      this.skip(/ /);
      const key = this.key();
      let value: BareItem = true;
      if (this.peek() === "=") {
        this.i++;
        value = this.bareItem();
      }
      params.set(key, value);
    }
    return params;
  }

  private key(): string {
    const start = this.i;
    if (!KEY_START.test(this.peek())) throw new Fail(`bad key at ${this.i}`);
    this.skip(KEY_CHAR);
    return this.s.slice(start, this.i);
  }

  private bareItem(): BareItem {
    const c = this.peek();
    if (c === "-" || /[0-9]/.test(c)) return this.number();
    if (c === '"') return this.string();
    if (c === ":") return this.bytes();
    if (c === "?") return this.boolean();
    if (TOKEN_START.test(c)) return this.token();
    throw new Fail(`bad item at ${this.i}`);
  }

  private number(): number | Decimal {
    const m = /^(-?)([0-9]+)(?:\.([0-9]*))?/.exec(this.s.slice(this.i));
    if (!m) throw new Fail(`bad number at ${this.i}`);
    const [all, , int = "", frac] = m;
    this.i += all.length;
    if (frac === undefined) {
      if (int.length > 15) throw new Fail("integer too long");
      return Number(all);
    }
    if (int.length > 12 || frac.length < 1 || frac.length > 3) throw new Fail("bad decimal");
    return new Decimal(Number(all));
  }

  private string(): string {
    this.expect('"');
    let out = "";
    for (;;) {
      if (this.eof()) throw new Fail("unterminated string");
      const c = this.s[this.i++] ?? "";
      if (c === '"') return out;
      if (c === "\\") {
        const next = this.s[this.i++] ?? "";
        if (next !== '"' && next !== "\\") throw new Fail("bad escape");
        out += next;
      } else if (c < " " || c > "~") {
        throw new Fail("bad string character");
      } else {
        out += c;
      }
    }
  }

  private token(): Token {
    const start = this.i;
    this.i++;
    this.skip(TOKEN_CHAR);
    return new Token(this.s.slice(start, this.i));
  }

  private bytes(): Uint8Array {
    this.expect(":");
    const start = this.i;
    this.skip(BASE64_CHAR);
    const b64 = this.s.slice(start, this.i);
    this.expect(":");
    const bytes = fromBase64(b64);
    if (!bytes) throw new Fail("bad base64");
    return bytes;
  }

  private boolean(): boolean {
    this.expect("?");
    const c = this.s[this.i++];
    if (c === "1") return true;
    if (c === "0") return false;
    throw new Fail("bad boolean");
  }
}

/** Parses a Dictionary field value; `undefined` if it is not valid RFC 8941. */
export function parseDictionary(text: string): Dictionary | undefined {
  try {
    return new Parser(text.trim()).dictionary();
  } catch (e) {
    if (e instanceof Fail) return undefined;
    throw e;
  }
}

export function serializeBareItem(v: BareItem): string {
  if (v instanceof Token) return v.value;
  if (v instanceof Decimal) return Number.isInteger(v.value) ? v.value.toFixed(1) : String(Math.round(v.value * 1000) / 1000);
  if (v instanceof Uint8Array) return `:${toBase64(v)}:`;
  if (typeof v === "boolean") return v ? "?1" : "?0";
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) throw new RangeError(`not an sf-integer: ${v}`);
    return String(v);
  }
  if (/[^\x20-\x7e]/.test(v)) throw new RangeError("sf-string holds a character outside printable ASCII");
  return `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export function serializeParams(params: Params): string {
  let out = "";
  for (const [k, v] of params) out += v === true ? `;${k}` : `;${k}=${serializeBareItem(v)}`;
  return out;
}

export function serializeItem(item: Item): string {
  return serializeBareItem(item.value) + serializeParams(item.params);
}

export function serializeInnerList(list: InnerList): string {
  return `(${list.items.map(serializeItem).join(" ")})${serializeParams(list.params)}`;
}

export function serializeDictionary(dict: Dictionary): string {
  const parts: string[] = [];
  for (const [k, m] of dict) {
    if (!isInnerList(m) && m.value === true) parts.push(k + serializeParams(m.params));
    else parts.push(`${k}=${isInnerList(m) ? serializeInnerList(m) : serializeItem(m)}`);
  }
  return parts.join(", ");
}
