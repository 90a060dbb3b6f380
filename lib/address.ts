/** Peer addresses as users write them: `host`, `host:port` or `http(s)://host:port`. */
export interface PeerAddress {
  host: string;
  port: number;
  url: string;
}

export const DEFAULT_CELL_PORT = 8000;

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isValidHost(host: string): boolean {
  if (host.startsWith("[") && host.endsWith("]")) return /^[0-9a-f:.]+$/i.test(host.slice(1, -1));
  if (/^[\d.]+$/.test(host)) return IPV4.test(host);
  return HOSTNAME.test(host);
}

export function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** Returns the parsed address, or a message saying what is wrong with it. */
export function parsePeerAddress(raw: string, defaultPort = DEFAULT_CELL_PORT): PeerAddress | string {
  const text = raw.trim();
  if (!text) return "empty address";
  let scheme = "http";
  let rest = text;
  const m = /^([a-z]+):\/\/(.*)$/i.exec(text);
  if (m) {
    scheme = m[1]!.toLowerCase();
    rest = m[2]!.replace(/\/+$/, "");
    if (scheme !== "http" && scheme !== "https") return `unsupported scheme "${scheme}" (use http or https)`;
    if (rest.includes("/")) return "an address must not have a path";
  }
  let host = rest;
  let port = defaultPort;
  const v6 = /^(\[[^\]]+\])(?::(.*))?$/.exec(rest);
  const colon = rest.lastIndexOf(":");
  if (v6) {
    host = v6[1]!;
    if (v6[2] !== undefined) {
      const p = parsePort(v6[2]);
      if (p === undefined) return `bad port "${v6[2]}"`;
      port = p;
    }
  } else if (colon >= 0) {
    host = rest.slice(0, colon);
    const p = parsePort(rest.slice(colon + 1));
    if (p === undefined) return `bad port "${rest.slice(colon + 1)}"`;
    port = p;
  }
  if (!isValidHost(host)) return `bad host "${host}"`;
  return { host: host.toLowerCase(), port, url: `${scheme}://${host.toLowerCase()}:${port}` };
}

/** Parses a comma-separated list; throws with the first bad entry named. */
export function parsePeerList(raw: string | undefined, defaultPort = DEFAULT_CELL_PORT): PeerAddress[] {
  const out: PeerAddress[] = [];
  for (const part of (raw ?? "").split(",")) {
    if (!part.trim()) continue;
    const parsed = parsePeerAddress(part, defaultPort);
    if (typeof parsed === "string") throw new Error(`"${part.trim()}": ${parsed}`);
    out.push(parsed);
  }
  return out;
}
