/** Replication end to end: stacks on 127.0.33.x replicate the whole consciousness and converge. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestStack, until, converged } from "../../harness/stack";

const ENV = { AIOS_CLUSTER_SECRET: "sync-secret", AIOS_API_TOKEN: "sync-token" };
type Graph = { entities: { name: string; entityType: string; observations: string[] }[]; relations: unknown[] };

const graphOf = async (s: TestStack, ns = "default") =>
  (await (await s.api(`/memory/read_graph?namespace=${ns}`)).json()) as Graph;

describe("LAN sync", () => {
  let a: TestStack, b: TestStack, c: TestStack;
  beforeAll(async () => {
    [a, b, c] = await Promise.all([
      TestStack.start({ ip: "127.0.33.1", cellId: "sa", env: { ...ENV, AIOS_NETWORK_PEERS: "127.0.33.2,127.0.33.3" } }),
      TestStack.start({ ip: "127.0.33.2", cellId: "sb", env: ENV }),
      TestStack.start({ ip: "127.0.33.3", cellId: "sc", env: { ...ENV, AIOS_NETWORK_PEERS: "127.0.33.2" } }),
    ]);
    const alive = async (s: TestStack) =>
      (await s.json<{ peers: { status: string }[] }>("discovery", "/peers")).peers.filter((p) => p.status === "alive").length;
    await until(async () => (await alive(a)) === 2 && (await alive(b)) === 2 && (await alive(c)) === 2, 20_000);
  });
  afterAll(async () => {
    await Promise.all([a, b, c].map((s) => s?.stop()));
  });

  it("a write on one stack appears on the others: graph, messages and context", async () => {
    await a.memory("create_entities", {
      namespace: "proj",
      entities: [{ name: "Desk", entityType: "machine", observations: ["has two screens"] }],
    });
    await a.api("/message", { method: "POST", body: JSON.stringify({ content: "hello from sa", type: "greeting" }) });
    await a.api("/context", { method: "PUT", body: JSON.stringify({ workspace: "proj", file: "main.ts" }) });
    for (const s of [b, c]) {
      await until(async () => (await graphOf(s, "proj")).entities.some((e) => e.name === "Desk"), 5000, 50);
      await until(
        async () => ((await (await s.api("/messages?from_cell=sa")).json()) as { total: number }).total === 1,
        5000,
        50,
      );
      await until(
        async () => {
          const ctx = (await (await s.api("/context")).json()) as { contexts: { cell_id: string; context: { file?: string } }[] };
          return ctx.contexts.some((x) => x.cell_id === "sa" && x.context.file === "main.ts");
        },
        5000,
        50,
      );
    }
  });

  it("concurrent writes to one entity on every stack keep every observation; the type is the same everywhere", async () => {
    await a.memory("create_entities", { entities: [{ name: "Shared", entityType: "start", observations: [] }] });
    // Every stack must have the entity before adding to it (an add to an unknown entity is refused, not lost).
    for (const s of [b, c]) await until(async () => (await graphOf(s)).entities.some((e) => e.name === "Shared"), 5000, 50);
    await Promise.all(
      [a, b, c].flatMap((s, i) => [
        s.memory("add_observations", { observations: [{ entityName: "Shared", contents: [`from ${i} one`, `from ${i} two`] }] }),
        s.memory("create_entities", { entities: [{ name: `Type-${i}`, entityType: `kind-${i}`, observations: [] }] }),
      ]),
    );
    // Last writer wins on the entity type: recreate the same entity concurrently with different types.
    await Promise.all(
      [a, b, c].map((s, i) =>
        s
          .memory("delete_entities", { entityNames: ["Racy"] })
          .then(() => s.memory("create_entities", { entities: [{ name: "Racy", entityType: `type-${i}`, observations: [] }] })),
      ),
    );
    await converged([a, b, c]);
    const graphs = await Promise.all([a, b, c].map((s) => graphOf(s)));
    const shared = graphs[0]!.entities.find((e) => e.name === "Shared")!;
    expect(new Set(shared.observations)).toEqual(new Set([0, 1, 2].flatMap((i) => [`from ${i} one`, `from ${i} two`])));
    expect(graphs[1]).toEqual(graphs[0]);
    expect(graphs[2]).toEqual(graphs[0]);
  });

  it("deletes propagate and do not resurrect", async () => {
    await b.memory("create_entities", { entities: [{ name: "Doomed", entityType: "t", observations: ["x"] }] });
    await converged([a, b, c]);
    await c.memory("delete_entities", { entityNames: ["Doomed"] });
    await converged([a, b, c]);
    await new Promise((r) => setTimeout(r, 1500));
    for (const s of [a, b, c]) expect((await graphOf(s)).entities.some((e) => e.name === "Doomed")).toBe(false);
  });

  it("/peers and /consciousness show per-peer sync state", async () => {
    const peers = await a.json<{
      peers: {
        cell_id: string;
        sync: { last_success: string; in_sync: boolean; rows_sent: number; rows_received: number } | null;
      }[];
    }>("cell", "/peers");
    const toB = peers.peers.find((p) => p.cell_id === "sb")!;
    expect(toB.sync?.last_success).toMatch(/Z$/);
    expect(toB.sync!.rows_received + toB.sync!.rows_sent).toBeGreaterThan(0);
    await until(async () => {
      const cons = await a.json<{ primitives: { coherence: number; adaptation: number }; inputs: { peers_in_sync: number } }>(
        "cell",
        "/consciousness",
      );
      return cons.inputs.peers_in_sync === 2 && cons.primitives.coherence === 1 && cons.primitives.adaptation > 0.9;
    }, 10_000);
  });

  it("a stopped stack, written to on both sides, converges to identical state when restarted", async () => {
    const dir = c.dir;
    expect(await c.stop()).toBe(0);
    await a.memory("create_entities", { entities: [{ name: "WhileAway", entityType: "t", observations: ["written on sa"] }] });
    await a.memory("add_observations", { observations: [{ entityName: "Shared", contents: ["partition sa"] }] });
    c = await TestStack.start({ ip: "127.0.33.3", cellId: "sc", dir, env: { ...ENV, AIOS_NETWORK_PEERS: "127.0.33.99" } });
    // sc starts with nobody alive yet … unless discovery already re-admitted it; write on it right away.
    await c.memory("add_observations", { observations: [{ entityName: "Shared", contents: ["partition sc"] }] });
    const digest = await converged([a, b, c], 25_000);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    const shared = (await graphOf(b)).entities.find((e) => e.name === "Shared")!;
    expect(shared.observations).toEqual(expect.arrayContaining(["partition sa", "partition sc"]));
    expect((await graphOf(c)).entities.some((e) => e.name === "WhileAway")).toBe(true);
  });
});

describe("sync refuses outsiders", () => {
  it("a stack with the wrong cluster secret receives nothing", async () => {
    const [good, bad] = await Promise.all([
      TestStack.start({ ip: "127.0.34.1", cellId: "good", env: { ...ENV, AIOS_NETWORK_PEERS: "127.0.34.2" } }),
      TestStack.start({
        ip: "127.0.34.2",
        cellId: "bad",
        env: { AIOS_CLUSTER_SECRET: "not it", AIOS_API_TOKEN: "sync-token", AIOS_NETWORK_PEERS: "127.0.34.1" },
      }),
    ]);
    try {
      await good.memory("create_entities", {
        entities: [{ name: "Secret", entityType: "t", observations: ["only for members"] }],
      });
      await new Promise((r) => setTimeout(r, 4000));
      expect((await graphOf(bad)).entities).toEqual([]);
      // Even a hand-made pull, signed by nobody, gets a 401.
      const r = await fetch(good.url("cell", "/sync/pull"), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ vv: {} }),
      });
      expect(r.status).toBe(401);
    } finally {
      await Promise.all([good.stop(), bad.stop()]);
    }
  });
});
