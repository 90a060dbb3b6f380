/**
 * The anti-entropy loop. Each round (every SYNC_INTERVAL_MS), this cell pulls
 * from a few alive peers picked at random (SYNC_FANOUT): it sends its version
 * vector (a few bytes per cell, whatever the data size) and gets back only the
 * rows it lacks, in bounded pages. A cell's idle traffic is therefore the same
 * whatever the number of cells (the vector grows by a few bytes per cell).
 * A local write pokes every alive peer so they pull at once instead of
 * waiting: rounds only repair what pokes missed. Once QUIET_ROUNDS rounds in a
 * row found nothing to repair (and nothing was written, poked, failed or
 * joined meanwhile), rounds come every SYNC_IDLE_INTERVAL_MS instead: each
 * round costs both sides a signed request, which is most of an idle stack's CPU.
 */
import { parseJsonText } from "../../lib/http";
import { signedPost, type IdentityStub } from "../identity/intercell";
import type { CounterDelta } from "../../lib/metrics-buffer";
import { PullResponse, sameVector, type SyncRow, type VersionVector } from "../../lib/sync-types";
import type { SyncState } from "./sync-state";

export const SYNC_INTERVAL_MS = 5000;
/** Between rounds once they have been quiet for QUIET_ROUNDS rounds in a row. */
export const SYNC_IDLE_INTERVAL_MS = 15_000;
export const QUIET_ROUNDS = 3;
/** Peers pulled from per round. */
export const SYNC_FANOUT = 3;
export const PAGE_ROWS = 500;
/** Pages per pull before yielding to the next round, so a long catch-up never starves live traffic. */
const MAX_PAGES_PER_PULL = 20;
const PULL_TIMEOUT_MS = 5000;
const POKE_DEBOUNCE_MS = 10;

export interface SyncPeer {
  cell_id: string;
  url: string;
}

export interface SyncHost {
  readonly cellId: string;
  readonly state: SyncState;
  identity(): IdentityStub;
  alivePeers(): Promise<SyncPeer[]>;
  vector(): VersionVector;
  applyRemote(rows: SyncRow[]): number;
  /** Called after a complete pull with the other replica's vector. */
  mergeVector(vv: VersionVector): void;
  count(deltas: CounterDelta[]): void;
  background(p: Promise<unknown>): void;
}

export class SyncLoop {
  private peers: SyncPeer[] = [];
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private pokeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Rounds in a row that found nothing to repair. */
  private quiet = 0;
  /** Since the last round ended: a write, a poke, rows received, a peer out of sync or failing. */
  private stirred = true;
  private lastPeers = "";

  constructor(private readonly host: SyncHost) {}

  /** How long after a round the next one is due: SYNC_INTERVAL_MS, or SYNC_IDLE_INTERVAL_MS once rounds are quiet. */
  interval(): number {
    return this.quiet >= QUIET_ROUNDS ? SYNC_IDLE_INTERVAL_MS : SYNC_INTERVAL_MS;
  }

  async round(): Promise<void> {
    this.peers = await this.host.alivePeers();
    // A peer that came or went, or none to pull from yet: keep the short interval.
    const ids = this.peers
      .map((p) => p.cell_id)
      .sort()
      .join(" ");
    if (ids !== this.lastPeers || this.peers.length === 0) this.stirred = true;
    this.lastPeers = ids;
    await Promise.all(pickRandom(this.peers, SYNC_FANOUT).map((p) => this.pull(p)));
    this.quiet = this.stirred ? 0 : this.quiet + 1;
    this.stirred = false;
  }

  /** Pulls from one peer; a pull already running for it runs once more afterwards instead. */
  pull(peer: SyncPeer): Promise<void> {
    const running = this.inflight.get(peer.cell_id);
    if (running) {
      this.again.add(peer.cell_id);
      return running;
    }
    const task = (async () => {
      do {
        this.again.delete(peer.cell_id);
        await this.pullPages(peer);
      } while (this.again.has(peer.cell_id));
    })().finally(() => this.inflight.delete(peer.cell_id));
    this.inflight.set(peer.cell_id, task);
    return task;
  }

  private async pullPages(peer: SyncPeer): Promise<void> {
    let rows = 0;
    let sent = 0;
    let received = 0;
    let theirs: VersionVector = {};
    let more = true;
    try {
      for (let page = 0; more && page < MAX_PAGES_PER_PULL; page++) {
        const r = await signedPost(
          this.host.identity(),
          `${peer.url}/sync/pull`,
          peer.cell_id,
          { vv: this.host.vector(), limit: PAGE_ROWS },
          PULL_TIMEOUT_MS,
        );
        sent += r.bytesSent;
        received += r.bytesReceived;
        if (r.status !== 200)
          throw new RoundError(
            r.status === 401 || r.status === 403 ? "refused" : "error",
            `${r.status}: ${r.text.slice(0, 200)}`,
          );
        const response = parseJsonText(r.text, PullResponse);
        rows += this.host.applyRemote(response.rows);
        theirs = response.vv;
        more = response.more;
        if (!more) this.host.mergeVector(theirs);
      }
      const inSync = !more && sameVector(this.host.vector(), theirs);
      if (rows > 0 || !inSync) this.stirred = true;
      this.host.state.roundOk(peer.cell_id, inSync, rows, sent, received, theirs);
      this.count(peer.cell_id, "ok", rows, sent, received);
    } catch (e) {
      this.stirred = true;
      const result = e instanceof RoundError ? e.result : "error";
      this.host.state.roundFailed(peer.cell_id, e instanceof Error ? e.message : String(e));
      this.count(peer.cell_id, result, rows, sent, received);
    }
  }

  private count(peer: string, result: string, rows: number, sent: number, received: number): void {
    const deltas: CounterDelta[] = [
      { name: "aios_sync_rounds_total", labels: { cell_id: this.host.cellId, peer_id: peer, result }, delta: 1 },
    ];
    if (rows) deltas.push({ name: "aios_sync_rows_total", labels: { direction: "received" }, delta: rows });
    if (sent) deltas.push({ name: "aios_sync_bytes_total", labels: { direction: "sent" }, delta: sent });
    if (received) deltas.push({ name: "aios_sync_bytes_total", labels: { direction: "received" }, delta: received });
    this.host.count(deltas);
  }

  /**
   * After a local write: tell every alive peer to pull now (debounced, so a burst sends one poke).
   * The list of alive peers is asked for afresh, so a peer that came up since the last round hears too.
   */
  poke(): void {
    this.stirred = true;
    if (this.pokeTimer !== undefined) return;
    const sent = new Promise<void>((resolve) => {
      this.pokeTimer = setTimeout(() => {
        this.pokeTimer = undefined;
        void (async () => {
          this.peers = await this.host.alivePeers();
          const vv = this.host.vector();
          await Promise.all(
            this.peers.map((p) =>
              signedPost(this.host.identity(), `${p.url}/sync/poke`, p.cell_id, { vv }, 2000).catch(() => undefined),
            ),
          );
        })()
          .catch(() => undefined)
          .finally(resolve);
      }, POKE_DEBOUNCE_MS);
    });
    this.host.background(sent);
  }

  /** A peer poked us: pull from it now. */
  async poked(from: string): Promise<void> {
    this.stirred = true;
    let peer = this.peers.find((p) => p.cell_id === from);
    if (!peer) {
      this.peers = await this.host.alivePeers();
      peer = this.peers.find((p) => p.cell_id === from);
    }
    if (peer) this.host.background(this.pull(peer));
  }
}

class RoundError extends Error {
  constructor(
    readonly result: "refused" | "error",
    message: string,
  ) {
    super(message);
  }
}

/** Up to `n` distinct elements of `list`, picked at random. */
export function pickRandom<T>(list: readonly T[], n: number): T[] {
  const copy = [...list];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
}
