/**
 * AIOS_DISCOVERY_SCAN: comma-separated IPv4 CIDRs (`192.168.1.0/24`), ranges (`10.0.0.5-10.0.0.40`
 * or `10.0.0.5-40`) and single addresses. Addresses are unsigned 32-bit integers throughout.
 */

export interface ScanRange {
  /** First and last address, inclusive. */
  start: number;
  end: number;
  /** The entry as written. */
  text: string;
}

export type ScanRangesResult = { ok: true; ranges: ScanRange[]; total: number } | { ok: false; error: string };

export interface ScanRangeOptions {
  /** Most addresses all entries together may cover. Default 65536 (a /16). */
  maxAddresses?: number;
}

const OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** Dotted-quad to integer; `undefined` unless exactly four decimal octets 0-255 (no leading zeros, which some tools read as octal). */
export function ipToInt(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!OCTET.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

const FORMS = "an IPv4 address, a CIDR like 192.168.1.0/24, or a range like 10.0.0.5-10.0.0.40 or 10.0.0.5-40";

function parseEntry(text: string): Omit<ScanRange, "text"> | string {
  if (text.includes(":")) return "IPv6 is not supported; give IPv4 addresses";
  const cidr = /^([^/]+)\/(.*)$/.exec(text);
  if (cidr) {
    const addr = (cidr[1] ?? "").trim();
    const prefixText = (cidr[2] ?? "").trim();
    const base = ipToInt(addr);
    if (base === undefined) return `"${addr}" is not an IPv4 address`;
    if (!/^(0|[1-9][0-9]?)$/.test(prefixText) || Number(prefixText) > 32) return "prefix length must be 0-32";
    const size = 2 ** (32 - Number(prefixText));
    // Host bits set (192.168.1.7/24) are forgiven: the network is what was meant.
    const start = base - (base % size);
    const end = start + size - 1;
    // /31 (RFC 3021) and /32 have no network or broadcast address to skip.
    return size >= 4 ? { start: start + 1, end: end - 1 } : { start, end };
  }
  const range = /^([^-]+)-(.*)$/.exec(text);
  if (range) {
    const from = (range[1] ?? "").trim();
    const to = (range[2] ?? "").trim();
    const start = ipToInt(from);
    if (start === undefined) return `"${from}" is not an IPv4 address`;
    let end: number | undefined;
    if (OCTET.test(to)) {
      if (Number(to) > 255) return `range end ${to} is not 0-255`;
      end = start - (start % 256) + Number(to);
    } else {
      end = ipToInt(to);
      if (end === undefined) return `"${to}" is not an IPv4 address or a last octet 0-255`;
    }
    if (end < start) return "range start is after its end";
    return { start, end };
  }
  const single = ipToInt(text);
  if (single !== undefined) return { start: single, end: single };
  return /^[0-9.]+$/.test(text) ? `"${text}" is not an IPv4 address` : `expected ${FORMS}`;
}

/** "a /16" for a power-of-two limit, which is how people think of subnet sizes. */
function limitText(max: number): string {
  const bits = Math.log2(max);
  return Number.isInteger(bits) && bits <= 32 ? `a /${32 - bits}` : `the limit of ${max} addresses`;
}

/** Overlapping and adjacent ranges joined, in ascending order. */
function merged(ranges: readonly ScanRange[]): { start: number; end: number }[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: { start: number; end: number }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}

/** Parses AIOS_DISCOVERY_SCAN. Empty entries are skipped; overlapping entries count each address once. */
export function parseScanRanges(text: string, opts: ScanRangeOptions = {}): ScanRangesResult {
  const max = opts.maxAddresses ?? 65536;
  const ranges: ScanRange[] = [];
  for (const raw of text.split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    const parsed = parseEntry(entry);
    if (typeof parsed === "string") return { ok: false, error: `${entry}: ${parsed}` };
    const count = parsed.end - parsed.start + 1;
    if (count > max) return { ok: false, error: `${entry} is bigger than ${limitText(max)} (${count} addresses); narrow it` };
    ranges.push({ ...parsed, text: entry });
  }
  const total = merged(ranges).reduce((sum, r) => sum + r.end - r.start + 1, 0);
  if (total > max) {
    return { ok: false, error: `the entries together are bigger than ${limitText(max)} (${total} addresses); narrow them` };
  }
  return { ok: true, ranges, total };
}

/** Every address once, ascending, one at a time (a /16 is never held in memory as a list). */
export function* addresses(ranges: readonly ScanRange[]): Generator<string, void, undefined> {
  for (const r of merged(ranges)) {
    for (let n = r.start; n <= r.end; n++) yield intToIp(n);
  }
}
