import { describe, expect, it } from "vitest";
import { DEAD_AFTER_SUSPECT_MS, onProbeFailure, onProbeSuccess, shouldRemove, type HealthState } from "../../lib/peer-health";

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
});
