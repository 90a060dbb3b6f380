/**
 * This cell's link to one relay (AIOS_RELAY). The cell opens every
 * connection: a sync pulls the sealed rows it lacks (opening them with the
 * content key, which never leaves the cells) and then pushes, sealed, the rows
 * the relay lacks. A WebSocket to the relay carries only "news" (someone
 * pushed): the cell then syncs at once. While the socket is down the cell polls
 * and keeps trying to reconnect; while it is up a slow anti-entropy sync
 * repairs anything a lost message missed.
 */
import { deriveContentKeys, deriveRelayKey, type ContentKeys } from "../../lib/cluster-keys";
import { parseJsonText } from "../../lib/http";
import type { IdentityStub } from "../identity/intercell";
import type { CounterDelta } from "../../lib/metrics-buffer";
import {
  OFFER_HEADER,
  RELAY_PAGE_BYTES,
  RELAY_PAGE_ROWS,
  RELAY_TARGET,
  RelayPullResponse,
  RelayPushResponse,
  offerHeader,
  openRow,
  sealRow,
  type SealedRow,
} from "../../lib/relay-protocol";
import { admissionProof } from "../identity/signing";
import { sameVector, type SyncRow, type VersionVector } from "../../lib/sync-types";
import type { SyncState } from "./sync-state";

/** With the news socket up: a sync this often, in case news was lost. */
export const RELAY_SYNC_MS = 60_000;
/** With the socket down: poll (and try to reconnect) this often. */
export const RELAY_POLL_MS = 5000;
/** Keep-alive pings on the socket (the relay answers them without waking). */
export const RELAY_PING_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_PAGES = 20;
const SOON_MS = 10;

export interface RelayHost {
  readonly cellId: string;
  readonly secret: string;
  readonly state: SyncState;
  identity(): IdentityStub;
  vector(): VersionVector;
  changesSince(vv: VersionVector, limit: number): { rows: SyncRow[]; more: boolean };
  applyRemote(rows: SyncRow[]): number;
  mergeVector(vv: VersionVector): void;
  count(deltas: CounterDelta[]): void;
  background(p: Promise<unknown>): void;
  /** Asks for the owner's alarm to run by `at`. */
  wake(at: number): void;
}

export class RelayLink {
  /** The id its sync state and metrics are kept under. */
  readonly id: string;
  private keys: Promise<{ content: ContentKeys; relay: string }> | undefined;
  private publicKey: string | undefined;
  private socket: WebSocket | undefined;
  private connecting = false;
  private lastPing = 0;
  private nextSync = 0;
  private running: Promise<void> | undefined;
  private again = false;
  private soonTimer: ReturnType<typeof setTimeout> | undefined;
  /** The relay refused us (wrong secret, or our id pinned to another key): ask again only slowly. */
  private refused = false;

  constructor(
    private readonly host: RelayHost,
    readonly url: string,
  ) {
    this.id = `relay:${new URL(url).host}`;
  }

  get connected(): boolean {
    return this.socket !== undefined;
  }

  /** From the owner's alarm: whatever is due; returns when this link next needs the alarm. */
  tick(now = Date.now()): number {
    if (!this.socket && !this.connecting && !this.refused) this.host.background(this.connect());
    if (this.socket && now - this.lastPing >= RELAY_PING_MS) {
      this.lastPing = now;
      try {
        this.socket.send("ping");
      } catch {
        this.dropSocket();
      }
    }
    if (now >= this.nextSync) this.host.background(this.sync());
    const syncAt = Math.max(this.nextSync, now + 1000);
    if (this.socket) return Math.min(syncAt, this.lastPing + RELAY_PING_MS);
    return this.refused ? syncAt : Math.min(syncAt, now + RELAY_POLL_MS);
  }

  /** After a local write or news from the relay: sync now (debounced, so a burst is one sync). */
  soon(): void {
    if (this.soonTimer !== undefined) return;
    this.host.background(
      new Promise<void>((resolve) => {
        this.soonTimer = setTimeout(() => {
          this.soonTimer = undefined;
          void this.sync().finally(resolve);
        }, SOON_MS);
      }),
    );
  }

  /** One sync; one already running runs once more afterwards instead. */
  sync(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.syncOnce();
      } while (this.again);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  private async syncOnce(): Promise<void> {
    this.nextSync = Date.now() + (this.socket ? RELAY_SYNC_MS : RELAY_POLL_MS);
    this.host.wake(this.nextSync);
    const totals = { rows: 0, sent: 0, received: 0 };
    try {
      const { content } = await this.keyring();
      // Pull what we lack.
      let theirs: VersionVector = {};
      let more = true;
      for (let page = 0; more && page < MAX_PAGES; page++) {
        const r = await this.post("/relay/pull", { vv: this.host.vector(), limit: RELAY_PAGE_ROWS }, totals);
        const response = parseJsonText(r, RelayPullResponse);
        const opened: SyncRow[] = [];
        for (const sealed of response.rows) {
          const row = await openRow(content, sealed);
          if (row) opened.push(row);
        }
        const unreadable = response.rows.length - opened.length;
        if (unreadable) this.host.count([{ name: "aios_relay_unreadable_rows_total", labels: {}, delta: unreadable }]);
        totals.rows += this.host.applyRemote(opened);
        theirs = response.vv;
        more = response.more;
        if (!more) this.host.mergeVector(theirs);
      }
      // Push what it lacks, sealed.
      for (let page = 0; !more && page < MAX_PAGES; page++) {
        const vv = this.host.vector();
        const { rows, more: left } = this.host.changesSince(theirs, RELAY_PAGE_ROWS);
        if (rows.length === 0 && sameVector(vv, theirs)) break;
        const sealed: SealedRow[] = [];
        let bytes = 0;
        for (const row of rows) {
          const s = await sealRow(content, row);
          if (sealed.length > 0 && bytes + s.x.length > RELAY_PAGE_BYTES) break;
          sealed.push(s);
          bytes += s.x.length;
        }
        const complete = !left && sealed.length === rows.length;
        const r = await this.post("/relay/push", { rows: sealed, vv, complete }, totals);
        theirs = parseJsonText(r, RelayPushResponse).vv;
        if (complete) break;
      }
      this.host.state.roundOk(
        this.id,
        !more && sameVector(this.host.vector(), theirs),
        totals.rows,
        totals.sent,
        totals.received,
        theirs,
      );
      this.count("ok", totals);
    } catch (e) {
      this.host.state.roundFailed(this.id, e instanceof Error ? e.message : String(e));
      this.count(e instanceof RelayRefused ? "refused" : "error", totals);
    }
  }

  private count(result: string, t: { rows: number; sent: number; received: number }): void {
    const deltas: CounterDelta[] = [
      { name: "aios_sync_rounds_total", labels: { cell_id: this.host.cellId, peer_id: this.id, result }, delta: 1 },
    ];
    if (t.rows) deltas.push({ name: "aios_sync_rows_total", labels: { direction: "received" }, delta: t.rows });
    if (t.sent) deltas.push({ name: "aios_sync_bytes_total", labels: { direction: "sent" }, delta: t.sent });
    if (t.received) deltas.push({ name: "aios_sync_bytes_total", labels: { direction: "received" }, delta: t.received });
    this.host.count(deltas);
  }

  private keyring(): Promise<{ content: ContentKeys; relay: string }> {
    this.keys ??= (async () => ({
      content: await deriveContentKeys(this.host.secret),
      relay: await deriveRelayKey(this.host.secret),
    }))();
    return this.keys;
  }

  /** A request to the relay, with our admission offer, signed by our identity for the relay. */
  private async signed(path: string, init: RequestInit): Promise<Request> {
    const { relay } = await this.keyring();
    this.publicKey ??= await this.host.identity().ownPublicKey();
    const created = Math.floor(Date.now() / 1000);
    const proof = await admissionProof(relay, this.host.cellId, this.publicKey, created);
    const headers = new Headers(init.headers);
    headers.set(OFFER_HEADER, offerHeader(this.publicKey, created, proof));
    return this.host.identity().sign(new Request(`${this.url}${path}`, { ...init, headers }), RELAY_TARGET);
  }

  private async post(path: string, body: unknown, totals: { sent: number; received: number }): Promise<string> {
    const payload = JSON.stringify(body);
    const request = await this.signed(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: payload,
    });
    const res = await fetch(request, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await res.text();
    totals.sent += payload.length + headerBytes(request.headers) + path.length + 20;
    totals.received += text.length + headerBytes(res.headers) + 20;
    if (res.status !== 200) {
      const message = `${this.url}${path}: ${res.status} ${text.slice(0, 200)}`;
      throw res.status === 401 || res.status === 403 ? new RelayRefused(message) : new Error(message);
    }
    return text;
  }

  private async connect(): Promise<void> {
    this.connecting = true;
    try {
      const request = await this.signed("/relay/ws", { headers: { upgrade: "websocket" } });
      // No abort signal: aborting it would close the socket it opens. A handshake that hangs is abandoned instead.
      const res = await Promise.race([
        fetch(request),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), REQUEST_TIMEOUT_MS)),
      ]);
      if (!res) return;
      const ws = res.webSocket;
      if (!ws) {
        await res.body?.cancel();
        return;
      }
      ws.accept();
      this.socket = ws;
      this.lastPing = Date.now();
      ws.addEventListener("message", (event) => {
        if (event.data === "news") this.soon();
      });
      ws.addEventListener("close", () => this.dropSocket(ws));
      ws.addEventListener("error", () => this.dropSocket(ws));
      // Anything pushed while we were away: sync now.
      this.soon();
    } catch {
      // The relay is unreachable: the alarm polls and tries again.
    } finally {
      this.connecting = false;
    }
  }

  private dropSocket(ws: WebSocket | undefined = this.socket): void {
    if (!ws || ws !== this.socket) return;
    this.socket = undefined;
    try {
      ws.close(1000, "closing");
    } catch {
      // already closed
    }
    this.nextSync = Math.min(this.nextSync, Date.now() + RELAY_POLL_MS);
    this.host.wake(Date.now() + RELAY_POLL_MS);
  }

  /** Closes the news socket (the owner is going away). */
  close(): void {
    this.dropSocket();
  }
}

class RelayRefused extends Error {}

function headerBytes(h: Headers): number {
  let n = 0;
  h.forEach((value, name) => (n += name.length + value.length + 4));
  return n;
}
