/** Cells find, admit and health-check each other; forged requests are refused. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestStack, until } from "../../harness/stack";

interface PeerList {
  peers: { cell_id: string; status: string; source: string; rtt_ms: number | null; last_seen: string; first_seen: string }[];
  count: number;
}

const SECRET = { AIOS_CLUSTER_SECRET: "correct horse battery staple", AIOS_API_TOKEN: "disc-token" };
const peersOf = (s: TestStack) => s.json<PeerList>("discovery", "/peers");
const statusOf = async (s: TestStack, id: string) => (await peersOf(s)).peers.find((p) => p.cell_id === id)?.status;

describe("discovery across stacks", () => {
  let a: TestStack, b: TestStack, c: TestStack, intruder: TestStack;
  beforeAll(async () => {
    [a, b] = await Promise.all([
      TestStack.start({ ip: "127.0.31.1", cellId: "alpha", env: { ...SECRET, AIOS_NETWORK_PEERS: "127.0.31.2" } }),
      TestStack.start({ ip: "127.0.31.2", cellId: "beta", env: SECRET }),
    ]);
    [c, intruder] = await Promise.all([
      TestStack.start({ ip: "127.0.31.3", cellId: "gamma", env: { ...SECRET, AIOS_NETWORK_PEERS: "http://127.0.31.1:8000" } }),
      TestStack.start({
        ip: "127.0.31.4",
        cellId: "intruder",
        env: { AIOS_CLUSTER_SECRET: "wrong", AIOS_NETWORK_PEERS: "127.0.31.1,127.0.31.2" },
      }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a, b, c, intruder].map((s) => s?.stop()));
  });

  it("a seeded peer appears alive on both sides, with the contract's fields", async () => {
    await until(async () => (await statusOf(a, "beta")) === "alive" && (await statusOf(b, "alpha")) === "alive", 10_000);
    const onA = (await peersOf(a)).peers.find((p) => p.cell_id === "beta")!;
    expect(onA).toMatchObject({
      cell_id: "beta",
      ip: "127.0.31.2",
      port: 8000,
      url: "http://127.0.31.2:8000",
      status: "alive",
      source: "seed",
      type: "cell",
    });
    expect(onA.last_seen).toMatch(/Z$/);
    // The round trip of the admission hello over loopback: measured, and well under a probe's timeout.
    expect(typeof onA.rtt_ms).toBe("number");
    expect(onA.rtt_ms).toBeGreaterThanOrEqual(0);
    expect(onA.rtt_ms).toBeLessThan(1500);
    const onB = (await peersOf(b)).peers.find((p) => p.cell_id === "alpha")!;
    expect(onB.source).toBe("register");
  });

  it("a third cell is learned by gossip, without configuration", async () => {
    // gamma knows only alpha; beta knows only alpha: they must learn each other through it.
    await until(async () => (await statusOf(b, "gamma")) === "alive" && (await statusOf(c, "beta")) === "alive", 15_000);
    // Neither was given the other's address: that they list each other at all is gossip's work. The
    // side whose contact lands first is listed by the other as "register", and the other as "gossip";
    // when both contacts cross, both say "register".
    const sources = [
      (await peersOf(b)).peers.find((p) => p.cell_id === "gamma")!.source,
      (await peersOf(c)).peers.find((p) => p.cell_id === "beta")!.source,
    ];
    for (const source of sources) expect(["gossip", "register"]).toContain(source);
  });

  it("a cell with the wrong cluster secret is never listed, and lists nobody", async () => {
    await new Promise((r) => setTimeout(r, 3000));
    for (const s of [a, b, c]) expect((await peersOf(s)).peers.map((p) => p.cell_id)).not.toContain("intruder");
    expect((await peersOf(intruder)).count).toBe(0);
  });

  it("the cell's /health and level see the peers discovery lists", async () => {
    const h = await a.json<{ peers: { known: number; alive: number } }>("cell", "/health");
    expect(h.peers).toEqual({ known: 2, alive: 2 });
    const cons = await a.json<{ inputs: { peers_known: number; peers_alive: number }; primitives: { awareness: number } }>(
      "cell",
      "/consciousness",
    );
    expect(cons.inputs.peers_alive).toBe(2);
    expect(cons.primitives.awareness).toBe(1);
  });

  it("a killed stack goes suspect, then dead, and alive again when restarted", async () => {
    const dir = c.dir;
    await c.kill9();
    const killedAt = Date.now();
    await until(async () => (await statusOf(a, "gamma")) === "suspect", 8000, 100);
    await until(async () => (await statusOf(a, "gamma")) === "dead", 8000, 100);
    expect(Date.now() - killedAt).toBeLessThan(8000);
    c = await TestStack.start({ ip: "127.0.31.3", cellId: "gamma", dir, env: { ...SECRET, AIOS_NETWORK_PEERS: "127.0.31.1" } });
    await until(async () => (await statusOf(a, "gamma")) === "alive", 10_000);
  });
});
