import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BridgeClient, dashboardUrl } from "../src/bridge";
import { StackPoller } from "../src/poller";
import type { StackState } from "../src/status";

/** A bridge that is up or down at will, counting the health checks. */
function bridge() {
  const b = { up: false, checks: 0 };
  const fetchImpl = async (url: string) => {
    if (url.endsWith("/health")) b.checks++;
    if (!b.up) throw new TypeError("fetch failed");
    const body = url.endsWith("/health")
      ? {
          status: "healthy",
          cell_id: "desk",
          cell_url: "http://10.0.0.5:8000/",
          cell_info: { cell_id: "desk", consciousness_level: 0.5 },
        }
      : { peers: [{ cell_id: "laptop", status: "alive" }], count: 1 };
    return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
  };
  return { b, client: new BridgeClient("http://127.0.0.1:3001/", fetchImpl) };
}

describe("watching the stack", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("waits longer and longer (capped) while the stack is down, notices it starting, then checks every few seconds", async () => {
    const { b, client } = bridge();
    const states: StackState["kind"][] = [];
    const poller = new StackPoller(client, (s) => states.push(s.kind), {
      upIntervalMs: 5000,
      downFirstMs: 1000,
      downMaxMs: 4000,
    });
    await poller.pollNow();
    expect(poller.state).toMatchObject({ kind: "down", reason: expect.stringContaining("not running") });
    await vi.advanceTimersByTimeAsync(1000); // 2nd check
    await vi.advanceTimersByTimeAsync(2000); // 3rd
    await vi.advanceTimersByTimeAsync(4000); // 4th
    await vi.advanceTimersByTimeAsync(4000); // 5th: capped at 4 s
    expect(b.checks).toBe(5);
    b.up = true;
    await vi.advanceTimersByTimeAsync(4000);
    expect(poller.state).toMatchObject({ kind: "up", health: { cell_id: "desk" }, peers: [{ cell_id: "laptop" }] });
    await vi.advanceTimersByTimeAsync(15_000);
    expect(b.checks).toBe(9);
    expect(states).toEqual(["down", "down", "down", "down", "down", "up", "up", "up", "up"]);
    poller.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(b.checks).toBe(9);
  });

  it("a down state keeps the time it began; the backoff starts over after the stack was up", async () => {
    const { b, client } = bridge();
    let now = 1000;
    const poller = new StackPoller(client, () => undefined, { downFirstMs: 1000, now: () => now });
    await poller.pollNow();
    now = 5000;
    await vi.advanceTimersByTimeAsync(1000);
    expect(poller.state).toMatchObject({ kind: "down", since: 1000 });
    b.up = true;
    await poller.pollNow();
    b.up = false;
    const before = b.checks;
    await vi.advanceTimersByTimeAsync(5000); // the up interval, then the first down delay again
    await vi.advanceTimersByTimeAsync(1000);
    expect(b.checks - before).toBe(2);
    poller.stop();
  });

  it("paused (no usable bridge address), it checks nothing, and a check under way does not count; a new bridge resumes it", async () => {
    const { b, client } = bridge();
    b.up = true;
    const states: StackState["kind"][] = [];
    const poller = new StackPoller(client, (s) => states.push(s.kind), { upIntervalMs: 1000 });
    const under = poller.pollNow();
    poller.pause();
    await under;
    await poller.pollNow();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(b.checks).toBe(1);
    expect(states).toEqual([]);
    poller.setClient(bridge().client);
    await vi.advanceTimersByTimeAsync(0);
    expect(states).toEqual(["down"]);
    poller.stop();
  });

  it("concurrent checks share one request", async () => {
    const { b, client } = bridge();
    const poller = new StackPoller(client, () => undefined);
    await Promise.all([poller.pollNow(), poller.pollNow(), poller.pollNow()]);
    expect(b.checks).toBe(1);
    poller.stop();
  });
});

describe("the dashboard's address", () => {
  it("is the setting, else the cell's address from the bridge, else the bridge's host on port 8000", () => {
    expect(dashboardUrl("http://nas:8000/", undefined, "http://127.0.0.1:3001")).toBe("http://nas:8000/");
    expect(dashboardUrl("", { status: "healthy", cell_url: "http://10.0.0.5:8000/" }, "http://127.0.0.1:3001")).toBe(
      "http://10.0.0.5:8000/",
    );
    expect(dashboardUrl("", undefined, "http://127.0.0.1:3001")).toBe("http://127.0.0.1:8000/");
    expect(dashboardUrl("", undefined, "http://[::1]:3001")).toBe("http://[::1]:8000/");
  });

  it("a bridge URL that is not http(s) is refused with the setting's name", () => {
    expect(() => new BridgeClient("ftp://x")).toThrow(/aios.bridgeUrl .* must start with http/);
    expect(() => new BridgeClient("not a url")).toThrow(/aios.bridgeUrl "not a url" is not a URL/);
    expect(() => new BridgeClient("localhost:3002")).toThrow(/aios.bridgeUrl "localhost:3002" must start with http/);
    expect(new BridgeClient("http://127.0.0.1:3001/").mcpUrl).toBe("http://127.0.0.1:3001/mcp");
  });
});
