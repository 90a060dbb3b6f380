/**
 * Zero-configuration discovery on a LAN. workerd has no UDP, so the launcher
 * does mDNS/DNS-SD (bonjour-service): it advertises this cell as
 * `_aios-cell._tcp` and browses for other cells, handing each one it finds
 * to the local discovery worker (`POST /candidates`), which contacts it like a
 * scan result; admission still requires the same AIOS_CLUSTER_SECRET.
 * Nothing here may stop the stack: every mDNS failure is a logged warning.
 */
import { isIPv4, isIPv6 } from "node:net";
import type { StackConfig } from "../lib/config";
import type { Logger } from "../lib/log";
import { VERSION } from "../lib/version";

/** DNS-SD service type `_aios-cell._tcp`, in bonjour-service's spelling. */
export const SERVICE_TYPE = "aios-cell";
/** A found cell is handed to discovery at most once per this long per URL. */
export const HAND_OVER_DEBOUNCE_MS = 30_000;
const HAND_OVER_TIMEOUT_MS = 5_000;
/** Waits before the 2nd, 3rd and 4th attempt of a hand-over that failed (discovery busy or restarting). */
const HAND_OVER_RETRY_MS = [500, 2_000, 5_000];
const STOP_TIMEOUT_MS = 1_000;
const CELL_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;

// ---- hand-over to discovery ------------------------------------------------

export type HandOverResult = "sent" | "debounced" | "failed";

export interface HandOverOptions {
  /** The local discovery worker, e.g. http://127.0.0.1:8001. */
  discoveryUrl: string;
  /** The stack's API token (discovery's POST /candidates needs it). */
  token: string;
  fetch?: typeof fetch;
  debounceMs?: number;
  now?: () => number;
  timeoutMs?: number;
  /** Waits between attempts; after the last one fails, the hand-over waits for the next announcement. */
  retryMs?: number[];
  /** Stops retrying (the stack is stopping). */
  stopped?: () => boolean;
}

export interface HandOver {
  /**
   * POSTs `{url}` to discovery's /candidates unless that URL was handed over less than debounceMs ago,
   * retrying a failure a few times; `error` says why the last attempt failed.
   */
  hand(url: string): Promise<{ result: HandOverResult; error?: string }>;
  /** Drops a URL's debounce, so its next announcement is handed over at once (the cell said goodbye). */
  forget(url: string): void;
}

export function createHandOver(opts: HandOverOptions): HandOver {
  const doFetch = opts.fetch ?? fetch;
  const debounceMs = opts.debounceMs ?? HAND_OVER_DEBOUNCE_MS;
  const now = opts.now ?? Date.now;
  const retryMs = opts.retryMs ?? HAND_OVER_RETRY_MS;
  const endpoint = `${opts.discoveryUrl.replace(/\/+$/, "")}/candidates`;
  const lastSent = new Map<string, number>();
  const attempt = async (url: string): Promise<string | undefined> => {
    try {
      const r = await doFetch(endpoint, {
        method: "POST",
        headers: { authorization: `Bearer ${opts.token}`, "content-type": "application/json" },
        body: JSON.stringify({ url }),
        signal: AbortSignal.timeout(opts.timeoutMs ?? HAND_OVER_TIMEOUT_MS),
      });
      await r.body?.cancel();
      return r.ok ? undefined : `discovery answered ${r.status}`;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  };
  return {
    async hand(url) {
      const last = lastSent.get(url);
      const t = now();
      if (last !== undefined && t - last < debounceMs) return { result: "debounced" };
      lastSent.set(url, t);
      let error = await attempt(url);
      for (const wait of retryMs) {
        if (error === undefined || opts.stopped?.() || lastSent.get(url) !== t) break;
        await new Promise((resolve) => setTimeout(resolve, wait));
        error = await attempt(url);
      }
      if (error === undefined) return { result: "sent" };
      // A failed hand-over is retried at the next announcement.
      if (lastSent.get(url) === t) lastSent.delete(url);
      return { result: "failed", error };
    },
    forget(url) {
      lastSent.delete(url);
    },
  };
}

// ---- what a found service means ---------------------------------------------

/** The parts of a bonjour-service Service that we read. */
export interface FoundService {
  port?: number;
  addresses?: string[];
  /** Where the announcement came from. */
  referer?: { address: string; family?: string };
  txt?: Record<string, unknown>;
}

/**
 * The cell URL of a found service: an IPv4 address, preferring the sender of
 * the announcement when it is one of the advertised addresses (or none are
 * advertised: loopback-only hosts), so a cell bound to one address of a
 * multi-homed machine is reached there.
 */
export function serviceUrl(s: FoundService): string | undefined {
  const port = s.port;
  if (!port || !Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  const advertised = (s.addresses ?? []).filter((a) => isIPv4(a));
  const from = s.referer?.address;
  let host: string | undefined;
  if (from && isIPv4(from) && (advertised.length === 0 || advertised.includes(from))) host = from;
  else host = advertised[0];
  if (!host) {
    const v6 = [from, ...(s.addresses ?? [])].find((a) => a && isIPv6(a) && !/^fe80:/i.test(a));
    return v6 ? `http://[${v6}]:${port}` : undefined;
  }
  return `http://${host}:${port}`;
}

/** The cell a found service stands for, or undefined when it is us or not a well-formed cell. */
export function foundCell(s: FoundService, selfId: string): { cellId: string; url: string } | undefined {
  const id = s.txt?.["cell_id"];
  if (typeof id !== "string" || !CELL_ID.test(id) || id === selfId) return undefined;
  const url = serviceUrl(s);
  return url ? { cellId: id, url } : undefined;
}

/** Where the launcher reaches its own discovery worker. */
export function localDiscoveryUrl(cfg: Pick<StackConfig, "host" | "ports">): string {
  return `http://${cfg.host === "0.0.0.0" ? "127.0.0.1" : cfg.host}:${cfg.ports.discovery}`;
}

/**
 * multicast-dns options: a specific IPv4 bind address gets its own multicast
 * interface (joins and sends there, so the sender address is that address and
 * two stacks on 127.0.0.x don't clash); the socket itself stays on 0.0.0.0:5353
 * (shared with SO_REUSEADDR), since a socket bound to a unicast address never
 * receives multicast on Linux. 0.0.0.0 and host names use the library defaults.
 */
export function mdnsSocketOptions(host: string): Record<string, unknown> {
  if (!isIPv4(host) || host === "0.0.0.0") return {};
  return { interface: host, bind: "0.0.0.0", loopback: true };
}

// ---- advertise and browse ---------------------------------------------------

export interface Mdns {
  /** Unpublishes (a goodbye), stops browsing and closes the socket; bounded, never throws. */
  stop(): Promise<void>;
}

interface ResourceRecord {
  name: string;
  type: string;
  ttl?: number;
  data?: unknown;
}
interface MdnsPacket {
  answers?: ResourceRecord[];
  additionals?: ResourceRecord[];
}
type RemoteInfo = { address: string; family?: string };
/** The multicast-dns instance inside bonjour-service (not in its types). */
interface MdnsSocket {
  on(event: "error" | "warning", fn: (e: Error) => void): void;
  on(event: "response", fn: (packet: MdnsPacket, rinfo: RemoteInfo) => void): void;
  removeAllListeners(event: string): void;
}

type CellConfig = Pick<StackConfig, "cellId" | "host" | "ports" | "advertiseHost">;

/**
 * Starts advertising and browsing without waiting for anything (the library
 * loads and the socket binds in the background), so it never delays "ready".
 */
export function startMdns(
  cfg: CellConfig,
  token: string,
  log: Logger,
  opts: { fetch?: typeof fetch; version?: string } = {},
): Mdns {
  let stopped = false;
  const handOver = createHandOver({ discoveryUrl: localDiscoveryUrl(cfg), token, fetch: opts.fetch, stopped: () => stopped });
  const warned = new Set<string>();
  const warn = (msg: string, e: unknown) => {
    const error = e instanceof Error ? e.message : String(e);
    if (warned.has(`${msg}|${error}`)) return;
    warned.add(`${msg}|${error}`);
    log.warn(msg, { error });
  };
  let teardown: (() => Promise<void>) | undefined;

  const onService = (s: FoundService) => {
    if (stopped) return;
    const cell = foundCell(s, cfg.cellId);
    if (!cell) return;
    void handOver.hand(cell.url).then(({ result, error }) => {
      if (result === "sent") log.info("mdns found cell", { peer: cell.cellId, url: cell.url });
      else if (result === "failed" && !stopped) {
        log.warn("mdns could not hand a found cell to discovery", { peer: cell.cellId, url: cell.url, error });
      }
    });
  };

  const loaded = import("bonjour-service")
    .then(({ default: Bonjour }) => {
      if (stopped) return;
      const bonjour = new Bonjour(mdnsSocketOptions(cfg.host), (e: unknown) => warn("mdns error", e));
      const socket = (bonjour as unknown as { server?: { mdns?: MdnsSocket } }).server?.mdns;
      let service: ReturnType<typeof bonjour.publish> | undefined;
      let browser: ReturnType<typeof bonjour.find> | undefined;

      let done: Promise<void> | undefined;
      teardown = () =>
        (done ??= new Promise<void>((resolve) => {
          // No more re-announcements: bonjour's timer would otherwise send on the closed
          // socket (and throw) when the first announcement's callback comes after this.
          if (service) service.destroyed = true;
          browser?.stop();
          let closed = false;
          const finish = () => {
            clearTimeout(timer);
            socket?.removeAllListeners("response");
            resolve();
          };
          const close = () => {
            if (closed) return;
            closed = true;
            try {
              bonjour.destroy(finish);
            } catch {
              finish(); // the socket never bound, or is already closed
            }
          };
          // A goodbye that cannot be sent must not hold up a shutdown.
          const timer = setTimeout(() => (close(), resolve()), STOP_TIMEOUT_MS);
          try {
            bonjour.unpublishAll(close);
          } catch (e) {
            warn("mdns error", e);
            close();
          }
        }).catch((e: unknown) => warn("mdns error", e)));

      // Without a listener, a bind failure (port 5353 taken, no permission) would be thrown.
      socket?.on("error", (e) => {
        warn("mdns is unavailable; LAN discovery by mDNS is off", e);
        void teardown?.();
      });
      socket?.on("warning", (e) => warn("mdns warning", e));

      try {
        service = bonjour.publish({
          name: cfg.cellId,
          type: SERVICE_TYPE,
          protocol: "tcp",
          port: cfg.ports.cell,
          probe: false,
          txt: { cell_id: cfg.cellId, discovery_port: String(cfg.ports.discovery), version: opts.version ?? VERSION },
        });
        log.info("mdns advertising", {
          cell_id: cfg.cellId,
          url: `http://${cfg.advertiseHost}:${cfg.ports.cell}`,
          service_type: `_${SERVICE_TYPE}._tcp`,
          interface: cfg.host === "0.0.0.0" ? "all" : cfg.host,
        });

        const found = bonjour.find({ type: SERVICE_TYPE, protocol: "tcp" });
        browser = found;
        found.on("up", onService);
        found.on("srv-update", onService);
        found.on("txt-update", onService);
        found.on("down", (s) => {
          const url = serviceUrl(s);
          if (url) handOver.forget(url);
        });
        // The browser reports a service once; its later announcements (a restarted
        // cell re-announces) are handed over again, debounced, from the raw answers.
        socket?.on("response", (packet, rinfo) => {
          for (const rr of [...(packet.answers ?? []), ...(packet.additionals ?? [])]) {
            if (rr.type !== "SRV" || !rr.ttl) continue;
            const known = found.services.find((b) => b.fqdn?.toLowerCase() === rr.name.toLowerCase());
            if (known) onService({ port: known.port, addresses: known.addresses, txt: known.txt, referer: rinfo });
          }
        });
      } catch (e) {
        warn("mdns is unavailable; LAN discovery by mDNS is off", e);
        void teardown();
      }
    })
    .catch((e: unknown) => warn("mdns is unavailable; LAN discovery by mDNS is off", e));

  return {
    async stop() {
      stopped = true;
      await loaded;
      await teardown?.();
    },
  };
}
