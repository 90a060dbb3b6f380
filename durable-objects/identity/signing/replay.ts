/** Nonce memory that refuses a signature seen before. */

export interface ReplayGuard {
  /**
   * Records the nonce and answers whether it had been seen already (true = replay). Must check and
   * record atomically, or two copies racing in could both pass.
   */
  seen(keyId: string, nonce: string, created: number): boolean | Promise<boolean>;
}

export interface MemoryReplayGuardOptions {
  /** The verifier's skew window; nonces are kept for twice it. Default 300. */
  maxSkewSeconds?: number;
  /** At most this many nonces are held. Default 100,000. */
  maxEntries?: number;
  /** Clock in milliseconds, for tests. Default Date.now. */
  now?: () => number;
}

/**
 * In-memory guard for one isolate. Holding a nonce for 2 × maxSkew after first sight covers its whole
 * life: a signature is only accepted while created ≥ now − maxSkew, so by the time it is forgotten
 * it is already stale. When full of live nonces it fails closed (treats every new nonce as a replay)
 * rather than forget one that could still be replayed; only verified signatures reach it, so only
 * admitted cells can fill it.
 */
export class MemoryReplayGuard implements ReplayGuard {
  // Map order is insertion order and every entry lives equally long, so the oldest is always first.
  private readonly expiries = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(opts: MemoryReplayGuardOptions = {}) {
    this.ttlMs = (opts.maxSkewSeconds ?? 300) * 2 * 1000;
    this.maxEntries = opts.maxEntries ?? 100_000;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.expiries.size;
  }

  seen(keyId: string, nonce: string, _created: number): boolean {
    const now = this.now();
    this.evict(now);
    // keyId cannot contain a newline (it is a printable sf-string), so the joined key is unambiguous.
    const key = `${keyId}\n${nonce}`;
    if (this.expiries.has(key)) return true;
    if (this.expiries.size >= this.maxEntries) return true;
    this.expiries.set(key, now + this.ttlMs);
    return false;
  }

  private evict(now: number): void {
    for (const [key, expiry] of this.expiries) {
      if (expiry > now) break;
      this.expiries.delete(key);
    }
  }
}
