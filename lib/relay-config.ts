/**
 * AIOS_RELAY: comma-separated relay URLs. `https://` anywhere; `http://` only
 * for a loopback host (a relay run with `npm run relay` on this machine), since
 * on any other network plain HTTP would show who syncs when, and invite
 * tampering with what the signatures do not cover.
 */
export function parseRelayList(text: string | undefined): string[] {
  const out: string[] = [];
  for (const raw of (text ?? "").split(",")) {
    const item = raw.trim();
    if (!item) continue;
    let u: URL;
    try {
      u = new URL(item);
    } catch {
      throw new Error(`"${item}" is not a URL; expected https://host[:port]`);
    }
    if (u.protocol !== "https:" && u.protocol !== "http:") throw new Error(`"${item}": expected https://host[:port]`);
    if (u.protocol === "http:" && !isLoopback(u.hostname))
      throw new Error(`"${item}": http:// is accepted for loopback addresses only; use https://`);
    if (u.username || u.password || u.search || u.hash || (u.pathname !== "/" && u.pathname !== ""))
      throw new Error(`"${item}": expected only a scheme, host and port (no path, query or credentials)`);
    const url = `${u.protocol}//${u.host}`;
    if (!out.includes(url)) out.push(url);
  }
  return out;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === "[::1]";
}
