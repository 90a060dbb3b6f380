/**
 * Watches the stack through the bridge: every few seconds while it runs, and
 * with a growing pause (capped) while it does not, so a stopped stack costs
 * little and a started one is noticed within seconds. Never shows a message:
 * the status bar item is where the state is seen.
 */
import type { BridgeClient } from "./bridge";
import { realTimers, type Timers } from "./context";
import type { StackState } from "./status";

export interface PollerOptions {
  upIntervalMs?: number;
  downFirstMs?: number;
  downMaxMs?: number;
  timers?: Timers;
  now?: () => number;
}

export class StackPoller {
  state: StackState = { kind: "checking" };
  private timer: unknown;
  private downDelay: number;
  private stopped = false;
  /** No bridge to watch (aios.bridgeUrl is unusable) until setClient(). */
  private paused = false;
  private running: Promise<void> | undefined;
  private readonly upInterval: number;
  private readonly downFirst: number;
  private readonly downMax: number;
  private readonly timers: Timers;
  private readonly now: () => number;

  constructor(
    private client: BridgeClient,
    private readonly onState: (state: StackState, previous: StackState) => void,
    opts: PollerOptions = {},
  ) {
    this.upInterval = opts.upIntervalMs ?? 5000;
    this.downFirst = opts.downFirstMs ?? 2000;
    this.downMax = opts.downMaxMs ?? 15_000;
    this.downDelay = this.downFirst;
    this.timers = opts.timers ?? realTimers;
    this.now = opts.now ?? Date.now;
  }

  /** Points the poller at another bridge (the setting changed) and checks at once. */
  setClient(client: BridgeClient): void {
    this.client = client;
    this.paused = false;
    this.downDelay = this.downFirst;
    // A check of the old bridge may be under way: it will not count; check the new one after it.
    void (this.running ?? Promise.resolve()).then(() => this.pollNow());
  }

  /** Checks now (start-up, a command just failed, the user asked); concurrent calls share one check. */
  pollNow(): Promise<void> {
    if (this.stopped || this.paused) return Promise.resolve();
    this.running ??= this.poll().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Stops checking until setClient() gives it a bridge again; a check under way does not count. */
  pause(): void {
    this.paused = true;
    this.clearTimer();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    this.clearTimer();
    const client = this.client;
    let next: StackState;
    try {
      const [health, peers] = await Promise.all([client.health(), client.peers().catch(() => undefined)]);
      next = { kind: "up", health, peers, at: this.now() };
    } catch (e) {
      const since = this.state.kind === "down" ? this.state.since : this.now();
      next = { kind: "down", reason: (e as Error).message, since };
    }
    if (this.stopped || this.paused || client !== this.client) return;
    const previous = this.state;
    this.state = next;
    this.onState(next, previous);
    let delay: number;
    if (next.kind === "up") {
      this.downDelay = this.downFirst;
      delay = this.upInterval;
    } else {
      delay = this.downDelay;
      this.downDelay = Math.min(this.downDelay * 2, this.downMax);
    }
    this.timer = this.timers.set(() => {
      this.timer = undefined;
      void this.pollNow();
    }, delay);
  }
}
