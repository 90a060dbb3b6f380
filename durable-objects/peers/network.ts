/** The outbound side of discovery: signed calls to other cells' discovery services. */
import { signedPost, type IdentityStub } from "../identity/intercell";
import { parseJsonText } from "../../lib/http";
import {
  CellHeartbeatSchema,
  HelloSchema,
  type CellHeartbeat,
  type Hello,
  type KnownPeer,
  type PeerInfo,
} from "../../lib/peer-protocol";
import { PROBE_TIMEOUT_MS } from "../../lib/peer-health";

export type CallResult<T> = { ok: true; value: T; rtt_ms: number } | { ok: false; error: string; status?: number };

/** A signed JSON POST to another cell; the answer is parsed with `parse`. */
async function signedCall<T>(
  identity: IdentityStub,
  url: string,
  target: string,
  body: unknown,
  parse: (text: string) => T,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<CallResult<T>> {
  try {
    const r = await signedPost(identity, url, target, body, timeoutMs);
    if (r.status >= 300) return { ok: false, status: r.status, error: `${r.status}: ${r.text.slice(0, 200)}` };
    return { ok: true, value: parse(r.text), rtt_ms: r.ms };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

export function heartbeat(
  identity: IdentityStub,
  peer: { cell_id: string; discovery_url: string },
  info: PeerInfo,
  known: KnownPeer[],
) {
  return signedCall<CellHeartbeat>(identity, `${peer.discovery_url}/heartbeat`, peer.cell_id, { info, known }, (t) =>
    parseJsonText(t, CellHeartbeatSchema),
  );
}

export function hello(identity: IdentityStub, discoveryUrl: string, target: string, mine: Hello) {
  return signedCall<Hello>(identity, `${discoveryUrl}/peers/hello`, target, mine, (t) => parseJsonText(t, HelloSchema), 3000);
}

export interface Discovered {
  cell_id: string;
  type: string;
  discovery_port: number;
}

/** Asks a cell's public /discover who it is and where its discovery service listens. */
export async function discover(cellUrl: string, timeoutMs: number): Promise<Discovered | undefined> {
  try {
    const res = await fetch(`${cellUrl}/discover`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    const body = (await res.json()) as { cell_id?: unknown; type?: unknown; ports?: { discovery?: unknown } };
    if (typeof body.cell_id !== "string" || body.type !== "cell" || typeof body.ports?.discovery !== "number") return undefined;
    return { cell_id: body.cell_id, type: body.type, discovery_port: body.ports.discovery };
  } catch {
    return undefined;
  }
}

/** Liveness of a peer registered by hand (no key): its public /health answers. */
export async function healthCheck(url: string): Promise<CallResult<{ consciousness_level: number | null }>> {
  const started = Date.now();
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    if (!res.ok) return { ok: false, status: res.status, error: `health answered ${res.status}` };
    const body = (await res.json()) as { consciousness_level?: unknown };
    const level = typeof body.consciousness_level === "number" ? body.consciousness_level : null;
    return { ok: true, value: { consciousness_level: level }, rtt_ms: Date.now() - started };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}
