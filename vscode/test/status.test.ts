import { describe, expect, it } from "vitest";
import type { BridgeHealth, PeerInfo } from "../src/bridge";
import { statusView } from "../src/status";

const health = (over: Partial<BridgeHealth> = {}): BridgeHealth => ({
  status: "healthy",
  cell_id: "desk",
  services: { cell: "up", discovery: "up", bridge: "up" },
  cell_info: { cell_id: "desk", branch: "main", consciousness_level: 0.8361 },
  ...over,
});
const peer = (cell_id: string, status: string, level: number | null = 0.7): PeerInfo => ({
  cell_id,
  status,
  consciousness_level: level,
  url: `http://10.0.0.2:8000`,
});

describe("the status bar item", () => {
  it("shows the cell, its level and peers alive of known; the tooltip lists every peer", () => {
    const v = statusView({ kind: "up", health: health(), peers: [peer("laptop", "alive"), peer("nas", "dead", null)], at: 0 });
    expect(v.text).toBe("$(pulse) AIOS desk · 0.84 · 1/2 peers");
    expect(v.severity).toBe("ok");
    expect(v.tooltip).toContain("Peers: 1 alive of 2 known");
    expect(v.tooltip).toMatch(/laptop\*\* alive · level 0\\\.70/);
    expect(v.tooltip).toMatch(/nas\*\* dead/);
    expect(v.tooltip).toContain("Click to open the dashboard");
  });

  it("a lone cell says it is on its own", () => {
    const v = statusView({ kind: "up", health: health(), peers: [], at: 0 });
    expect(v.text).toBe("$(pulse) AIOS desk · 0.84 · 0/0 peers");
    expect(v.tooltip).toContain("on its own");
  });

  it("says plainly when the stack is not running, and how to start it", () => {
    const v = statusView({
      kind: "down",
      reason: "the AIOS stack is not running (nothing answers there: http://127.0.0.1:3001)",
      since: 0,
    });
    expect(v.text).toBe("$(debug-disconnect) AIOS: stack not running");
    expect(v.severity).toBe("error");
    expect(v.tooltip).toContain("npm start");
    expect(v.tooltip).toContain("recovers by itself");
  });

  it("a bridge whose cell does not answer, or whose discovery does not, is a warning", () => {
    expect(statusView({ kind: "up", health: health({ status: "degraded", cell_info: null }), peers: [], at: 0 })).toMatchObject({
      text: "$(warning) AIOS desk: cell not answering",
      severity: "warning",
    });
    const noPeers = statusView({ kind: "up", health: health({ status: "degraded" }), peers: undefined, at: 0 });
    expect(noPeers.text).toBe("$(warning) AIOS desk · 0.84 · peers ?");
    expect(noPeers.severity).toBe("warning");
  });

  it("names from the network cannot format the tooltip", () => {
    const v = statusView({ kind: "up", health: health(), peers: [peer("[x](http://evil)", "alive")], at: 0 });
    expect(v.tooltip).toContain("\\[x\\]\\(http://evil\\)");
  });
});
