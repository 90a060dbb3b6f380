/**
 * Peer health, memberlist-style but simple: a peer we have not heard from for
 * PROBE_INTERVAL_MS is probed (a heartbeat it sends us counts as hearing from
 * it, so two cells take turns; each still probes at least every other interval);
 * a peer whose last probe failed is probed again
 * after FAILING_PROBE_MS. Two failed probes in a row make it `suspect`, and a suspect that
 * stays unanswered for DEAD_AFTER_SUSPECT_MS becomes `dead`. Any answer
 * makes it `alive` again. One slow answer (a single failed probe) never
 * changes a live peer's status. Dead peers are removed after REMOVE_AFTER.
 */
import type { PeerStatus } from "./rpc";

export const PROBE_INTERVAL_MS = 4000;
/** Up to this fraction of PROBE_INTERVAL_MS is added at random to each wait, so two cells rarely probe each other at once. */
export const PROBE_JITTER = 0.25;
/** A peer that did not answer its last probe is probed again this soon. */
export const FAILING_PROBE_MS = 1000;
/** A probe slower than this counts as failed. */
export const PROBE_TIMEOUT_MS = 1500;
export const SUSPECT_AFTER_FAILURES = 2;
export const DEAD_AFTER_SUSPECT_MS = 2000;
export const DEFAULT_REMOVE_AFTER_MS = 10 * 60 * 1000;

export interface HealthState {
  status: PeerStatus;
  failures: number;
  suspect_since: number | null;
  dead_since: number | null;
  last_seen: number;
}

export function onProbeSuccess(s: HealthState, now: number): HealthState {
  return { status: "alive", failures: 0, suspect_since: null, dead_since: null, last_seen: now };
}

export function onProbeFailure(s: HealthState, now: number): HealthState {
  const failures = s.failures + 1;
  if (s.status === "dead") return { ...s, failures };
  if (s.status === "suspect") {
    const since = s.suspect_since ?? now;
    return now - since >= DEAD_AFTER_SUSPECT_MS ? { ...s, failures, status: "dead", dead_since: now } : { ...s, failures };
  }
  return failures >= SUSPECT_AFTER_FAILURES ? { ...s, failures, status: "suspect", suspect_since: now } : { ...s, failures };
}

export function shouldRemove(s: HealthState, now: number, removeAfterMs = DEFAULT_REMOVE_AFTER_MS): boolean {
  return s.status === "dead" && s.dead_since !== null && now - s.dead_since >= removeAfterMs;
}

/**
 * When a peer is next due for a probe: PROBE_INTERVAL_MS (plus `jitter`, a fraction) after we last
 * heard from it while it answers, and at least every other interval all the same (so each side
 * measures its own round trip); FAILING_PROBE_MS after the last failed probe while it does not answer.
 */
export function nextProbeAt(s: HealthState, lastProbe: number | undefined, jitter: number): number {
  if (s.status === "alive" && s.failures === 0)
    return Math.min(s.last_seen + PROBE_INTERVAL_MS * (1 + jitter), (lastProbe ?? 0) + 2 * PROBE_INTERVAL_MS);
  return (lastProbe ?? 0) + FAILING_PROBE_MS;
}
