/**
 * Peer health, memberlist-style but simple: each peer is probed every
 * second; two failed probes in a row make it `suspect`, and a suspect that
 * stays unanswered for DEAD_AFTER_SUSPECT_MS becomes `dead`. Any answer
 * makes it `alive` again. One slow answer (a single failed probe) never
 * changes a live peer's status. Dead peers are removed after REMOVE_AFTER.
 */
import type { PeerStatus } from "./rpc";

export const PROBE_INTERVAL_MS = 1000;
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
