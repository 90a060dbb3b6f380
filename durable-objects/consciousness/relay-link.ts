/**
 * This cell's link to one relay (AIOS_RELAY). The cell opens every
 * connection: a sync pulls the sealed rows it lacks (opening them with the
 * content key, which never leaves the cells) and then pushes, sealed, the rows
 * the relay lacks. A WebSocket to the relay carries only "news" (someone
 * pushed): the cell then syncs at once. While the socket is down the cell polls
 * and keeps trying to reconnect; while it is up a slow anti-entropy sync
 * repairs anything a lost message missed.
 *
 * The relay is trusted with availability, not with the cells' state: its
 * version vector only says what to ask it for next (a cursor kept per relay),
 * never what this cell holds. The cell's own vector rises only with rows it
 * opened and merged, so a relay (or whoever holds the relay key) that claims
 * to hold more than it does can withhold rows, but cannot make this cell skip
 * rows from its LAN peers or reuse its own sequence numbers.
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
import { covers, maxVector, type SyncRow, type VersionVector } from "../../lib/sync-types";
import type { SyncState } from "./sync-state";

/** With the news socket up: a sync this often, in case news was lost. */
export const RELAY_SYNC_MS = 60_000;
/** With the socket down: poll (and try to reconnect) this often. */
export const RELAY_POLL_MS = 5000;
/** Keep-alive pings on the socket (the relay answers them without waking). */
export const RELAY_PING_MS = 30_000;
/** A socket whose ping got no pong this soon is dead (a Wi-Fi switch, a NAT entry dropped): reconnect. */
export const RELAY_PONG_MS = 10_000;
/** A refused cell (wrong secret, or its id pinned to another key) asks again after this, doubling up to RELAY_REFUSED_MAX_MS. */
export const RELAY_REFUSED_MS = 60_000;
export const RELAY_REFUSED_MAX_MS = 10 * 60_000;
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
  /** When the last pong came (the relay answers each ping). */
  private lastPong = 0;
  private nextSync = 0;
  private running: Promise<void> | undefined;
  private again = false;
  private soonTimer: ReturnType<typeof setTimeout> | undefined;
  /** The relay refused us (wrong secret, or our id pinned to another key): ask again only slowly. */
  private refused = false;
  private refusedFor = RELAY_REFUSED_MS;
  /**
   * What the relay has given us, per cell: its rows up to here were received (opened or not). Pulls
   * ask for what lies beyond this and our own vector; it starts again from our vector after a restart.
   */
  private cursor: VersionVector = {};

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
    if (this.socket && this.lastPing > this.lastPong && now - this.lastPing >= RELAY_PONG_MS) this.dropSocket();
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
    if (this.socket) {
      const awaitingPong = this.lastPing > this.lastPong;
      return Math.min(syncAt, awaitingPong ? this.lastPing + RELAY_PONG_MS : this.lastPing + RELAY_PING_MS);
    }
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
      // Pull what we lack: beyond our vector and beyond what this relay already gave us.
      let theirs: VersionVector = {};
      let more = true;
      for (let page = 0; more && page < MAX_PAGES; page++) {
        const vv = maxVector(this.host.vector(), this.cursor);
        const r = await this.post("/relay/pull", { vv, limit: RELAY_PAGE_ROWS }, totals);
        const response = parseJsonText(r, RelayPullResponse);
        theirs = response.vv;
        // A relay that lost rows (its storage was reset) is asked for them again as others push them back.
        for (const [origin, seq] of Object.entries(this.cursor))
          if ((theirs[origin] ?? 0) < seq) this.cursor[origin] = theirs[origin] ?? 0;
        const opened: SyncRow[] = [];
        for (const sealed of response.rows) {
          const row = await openRow(content, sealed);
          if (row) opened.push(row);
          // Past this row next time, opened or not: a row that does not open is not asked for again.
          if (sealed.s > (this.cursor[sealed.o] ?? 0)) this.cursor[sealed.o] = sealed.s;
        }
        const unreadable = response.rows.length - opened.length;
        if (unreadable) this.host.count([{ name: "aios_relay_unreadable_rows_total", labels: {}, delta: unreadable }]);
        totals.rows += this.host.applyRemote(opened);
        more = response.more;
        // The relay has nothing more: what it counts beyond the rows it sent was overwritten since.
        if (!more) this.cursor = maxVector(this.cursor, theirs);
        else if (response.rows.length === 0) throw new Error(`${this.url}: the relay says there is more but sent nothing`);
      }
      // Push what it lacks, sealed (also when the pull has pages left: the next sync goes on with them).
      for (let page = 0; page < MAX_PAGES; page++) {
        const vv = this.host.vector();
        const { rows, more: left } = this.host.changesSince(theirs, RELAY_PAGE_ROWS);
        if (rows.length === 0 && covers(theirs, vv)) break;
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
      this.refused = false;
      this.refusedFor = RELAY_REFUSED_MS;
      this.host.state.roundOk(
        this.id,
        !more && covers(theirs, this.host.vector()),
        totals.rows,
        totals.sent,
        totals.received,
        theirs,
      );
      this.count("ok", totals);
    } catch (e) {
      if (e instanceof RelayRefused) this.onRefused();
      this.host.state.roundFailed(this.id, e instanceof Error ? e.message : String(e));
      this.count(e instanceof RelayRefused ? "refused" : "error", totals);
    }
  }

  /** Refused: no socket, no polling; ask again after a wait that doubles while the refusals go on. */
  private onRefused(): void {
    this.refused = true;
    this.dropSocket();
    this.nextSync = Date.now() + this.refusedFor;
    this.host.wake(this.nextSync);
    this.refusedFor = Math.min(RELAY_REFUSED_MAX_MS, this.refusedFor * 2);
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
        // Refused: no more reconnecting; the sync that is refused too sets when to ask again.
        if (res.status === 401 || res.status === 403) this.refused = true;
        return;
      }
      ws.accept();
      this.socket = ws;
      this.lastPing = this.lastPong = Date.now();
      ws.addEventListener("message", (event) => {
        if (event.data === "news") this.soon();
        else if (event.data === "pong") this.lastPong = Date.now();
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
