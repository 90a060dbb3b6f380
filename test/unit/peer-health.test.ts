import { describe, expect, it } from "vitest";
import {
  DEAD_AFTER_SUSPECT_MS,
  FAILING_PROBE_MS,
  nextProbeAt,
  onProbeFailure,
  onProbeSuccess,
  PROBE_INTERVAL_MS,
  shouldRemove,
  type HealthState,
} from "../../lib/peer-health";

const alive = (now: number): HealthState => ({
  status: "alive",
  failures: 0,
  suspect_since: null,
  dead_since: null,
  last_seen: now,
});

describe("peer health", () => {
  it("one slow or failed probe never changes a live peer's status", () => {
    let s = onProbeFailure(alive(0), 1000);
    expect(s.status).toBe("alive");
    s = onProbeSuccess(s, 2000);
    s = onProbeFailure(s, 3000);
    expect(s.status).toBe("alive");
  });

  it("goes alive → suspect after two failures → dead after the suspect window → alive on an answer", () => {
    let s = onProbeFailure(alive(0), 1000);
    s = onProbeFailure(s, 2000);
    expect(s.status).toBe("suspect");
    s = onProbeFailure(s, 2000 + DEAD_AFTER_SUSPECT_MS - 1);
    expect(s.status).toBe("suspect");
    s = onProbeFailure(s, 2000 + DEAD_AFTER_SUSPECT_MS);
    expect(s.status).toBe("dead");
    expect(shouldRemove(s, s.dead_since! + 599_999)).toBe(false);
    expect(shouldRemove(s, s.dead_since! + 600_000)).toBe(true);
    expect(onProbeSuccess(s, 9000)).toEqual({
      status: "alive",
      failures: 0,
      suspect_since: null,
      dead_since: null,
      last_seen: 9000,
    });
  });

  it("a peer that answers is probed only once it has not been heard from for the interval; a failing one each second", () => {
    expect(nextProbeAt(alive(10_000), 9_000, 0)).toBe(10_000 + PROBE_INTERVAL_MS);
    expect(nextProbeAt(alive(10_000), 9_000, 0.25)).toBe(10_000 + PROBE_INTERVAL_MS * 1.25);
    // Heard from through its own heartbeats, it is still probed every other interval.
    expect(nextProbeAt(alive(20_000), 9_000, 0)).toBe(9_000 + 2 * PROBE_INTERVAL_MS);
    const failing = onProbeFailure(alive(0), 20_000);
    expect(nextProbeAt(failing, 20_000, 0)).toBe(20_000 + FAILING_PROBE_MS);
    const suspect = onProbeFailure(failing, 21_000);
    expect(suspect.status).toBe("suspect");
    expect(nextProbeAt(suspect, 21_000, 0.2)).toBe(21_000 + FAILING_PROBE_MS);
    expect(nextProbeAt(suspect, undefined, 0)).toBe(FAILING_PROBE_MS);
  });
});
