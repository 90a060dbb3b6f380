/**
 * PeerRegistry, run in this isolate: its list, and its alarm, which probes every peer, contacts
 * candidates with backoff and removes long-dead peers. Each test has its own registry; the alarm
 * is run by hand (and pushed an hour ahead in between), and peers' answers come from a stand-in fetch.
 */
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { PeerRegistry } from "../../durable-objects/peer-registry";
import { PROBE_INTERVAL_MS, PROBE_JITTER } from "../../lib/peer-health";
import type { Register } from "../../lib/peer-protocol";
import { inObject } from "./helpers";

const HOUR = 3_600_000;
/** Hosts the stand-in fetch answers for: a peer's public /health. Every other host refuses. */
const answering = new Set<string>();

beforeEach(() => {
  answering.clear();
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (answering.has(url.hostname) && url.pathname === "/health") return Response.json({ consciousness_level: 0.66 });
    throw new TypeError(`connection refused: ${url.host}`);
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

let n = 0;
/**
 * A registry of its own, with its alarm pushed out of the way so only `tick` runs it. Its `wake` (which
 * registering and new candidates call to bring the alarm forward) only records when it was asked for:
 * a real one would let the alarm fire by itself in the background, racing the test's own ticks.
 */
async function freshRegistry(): Promise<DurableObjectStub<PeerRegistry>> {
  const stub = env.TEST_PEERS.get(env.TEST_PEERS.idFromName(`registry-${Date.now()}-${n++}`));
  await inObject<PeerRegistry, void>(stub, (r, state) => {
    const woken: number[] = [];
    Object.assign(r, { woken, wake: (at: number) => woken.push(at) });
    return state.storage.setAlarm(Date.now() + HOUR);
  });
  return stub;
}

/** When the registry asked its alarm to fire (see freshRegistry), latest last. */
const wakes = (stub: DurableObjectStub<PeerRegistry>) =>
  inObject<PeerRegistry, number[]>(stub, (r) => [...(r as unknown as { woken: number[] }).woken]);

/** Runs the alarm once, then pushes the next one an hour ahead. */
async function tick(stub: DurableObjectStub<PeerRegistry>): Promise<void> {
  expect(await runDurableObjectAlarm(stub)).toBe(true);
  await inObject<PeerRegistry, void>(stub, (_r, state) => state.storage.setAlarm(Date.now() + HOUR));
}

const register = (stub: DurableObjectStub<PeerRegistry>, reg: Register) =>
  inObject<PeerRegistry, void>(stub, (r) => r.register(reg));
const peer = (stub: DurableObjectStub<PeerRegistry>, id: string) =>
  inObject<PeerRegistry, ReturnType<PeerRegistry["list"]>[number] | undefined>(stub, (r) =>
    r.list().find((p) => p.cell_id === id),
  );
const sql = <T>(stub: DurableObjectStub<PeerRegistry>, query: string, ...params: SqlStorageValue[]) =>
  inObject<PeerRegistry, T[]>(stub, (_r, state) => state.storage.sql.exec(query, ...params).toArray() as T[]);

describe("PeerRegistry list", () => {
  it("registers, lists, counts by status and unregisters", async () => {
    const stub = await freshRegistry();
    await register(stub, { cell_id: "nas", ip: "10.0.0.9", port: 8000, services: ["backup"] });
    await register(stub, { cell_id: "pi", ip: "10.0.0.10", port: 8000 });
    expect(await inObject<PeerRegistry, unknown>(stub, (r) => r.summary())).toEqual({ known: 2, alive: 2, suspect: 0, dead: 0 });
    expect(await peer(stub, "nas")).toMatchObject({ url: "http://10.0.0.9:8000", services: ["backup"], source: "register" });
    expect(await inObject<PeerRegistry, boolean>(stub, (r) => r.unregister("nas"))).toBe(true);
    expect(await inObject<PeerRegistry, boolean>(stub, (r) => r.unregister("nas"))).toBe(false);
    expect(await inObject<PeerRegistry, string[]>(stub, (r) => r.list().map((p) => p.cell_id))).toEqual(["pi"]);
  });

  it("learns peers it does not know as gossip candidates, never itself or a peer it lists", async () => {
    const stub = await freshRegistry();
    await register(stub, { cell_id: "known", ip: "10.0.0.2", port: 8000 });
    await inObject<PeerRegistry, void>(stub, (r) =>
      r.learn([
        { cell_id: "unit-cell", cell_url: "http://10.0.0.1:8000" },
        { cell_id: "known", cell_url: "http://10.0.0.2:8000" },
        { cell_id: "stranger", cell_url: "http://10.0.0.3:8000" },
      ]),
    );
    expect(await sql<{ url: string; source: string }>(stub, "SELECT url, source FROM candidates")).toEqual([
      { url: "http://10.0.0.3:8000", source: "gossip" },
    ]);
  });

  it("a legacy heartbeat revives a dead peer and sets its level; an unknown id is refused", async () => {
    const stub = await freshRegistry();
    await register(stub, { cell_id: "old", ip: "10.0.0.4", port: 8000 });
    await sql(stub, "UPDATE peers SET status = 'dead', failures = 9, dead_since = ? WHERE cell_id = 'old'", Date.now());
    expect(await inObject<PeerRegistry, boolean>(stub, (r) => r.legacyHeartbeat("old", 0.3))).toBe(true);
    expect(await peer(stub, "old")).toMatchObject({ status: "alive", consciousness_level: 0.3 });
    expect(await inObject<PeerRegistry, boolean>(stub, (r) => r.legacyHeartbeat("nobody", 0.3))).toBe(false);
  });
});

describe("PeerRegistry alarm", () => {
  it("sets its alarm for the next probe that is due, and none while nothing is", async () => {
    const stub = await freshRegistry();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await inObject<PeerRegistry, number | null>(stub, (_r, state) => state.storage.getAlarm())).toBeNull();
    answering.add("armed.test");
    await register(stub, { cell_id: "armed", ip: "armed.test", port: 8000 });
    // A peer never probed is due at once: registering asks for the alarm now (or earlier).
    expect((await wakes(stub)).at(-1)).toBeLessThanOrEqual(Date.now());
    await inObject<PeerRegistry, void>(stub, (_r, state) => state.storage.setAlarm(Date.now() + HOUR));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const next = await inObject<PeerRegistry, number | null>(stub, (_r, state) => state.storage.getAlarm());
    expect(next).not.toBeNull();
    // Heard from just now: probed again a probe interval later, plus at most its jitter.
    expect(next! - Date.now()).toBeGreaterThan(PROBE_INTERVAL_MS / 2);
    expect(next! - Date.now()).toBeLessThanOrEqual(PROBE_INTERVAL_MS * (1 + PROBE_JITTER));
    await inObject<PeerRegistry, void>(stub, (_r, state) => state.storage.setAlarm(Date.now() + HOUR));
  });

  it("keeps an answering peer alive with its level and round trip", async () => {
    const stub = await freshRegistry();
    answering.add("up.test");
    await register(stub, { cell_id: "up", ip: "up.test", port: 8000 });
    await tick(stub);
    await tick(stub);
    const up = await peer(stub, "up");
    expect(up).toMatchObject({ status: "alive", consciousness_level: 0.66 });
    expect(typeof up!.rtt_ms).toBe("number");
  });

  it("one failed probe changes nothing; two make a peer suspect; 2 s more of silence make it dead; an answer revives it", async () => {
    const stub = await freshRegistry();
    await register(stub, { cell_id: "down", ip: "down.test", port: 8000 });
    // A failing peer is probed again FAILING_PROBE_MS after its last probe: each tick below comes as
    // if that time had passed (the registry forgets when it last probed).
    const later = () =>
      inObject<PeerRegistry, void>(stub, (r) => (r as unknown as { lastProbe: Map<string, number> }).lastProbe.clear());
    await tick(stub);
    expect((await peer(stub, "down"))!.status).toBe("alive");
    await later();
    await tick(stub);
    expect((await peer(stub, "down"))!.status).toBe("suspect");
    await later();
    await tick(stub);
    expect((await peer(stub, "down"))!.status).toBe("suspect"); // not yet 2 s
    await sql(stub, "UPDATE peers SET suspect_since = ? WHERE cell_id = 'down'", Date.now() - 2100);
    await later();
    await tick(stub);
    expect((await peer(stub, "down"))!.status).toBe("dead");
    expect(await inObject<PeerRegistry, unknown>(stub, (r) => r.summary())).toEqual({ known: 1, alive: 0, suspect: 0, dead: 1 });
    answering.add("down.test");
    await later();
    await tick(stub);
    expect(await peer(stub, "down")).toMatchObject({ status: "alive", consciousness_level: 0.66 });
  });

  it("removes a peer dead for longer than AIOS_PEER_REMOVE_AFTER (600 s by default), not before", async () => {
    const stub = await freshRegistry();
    // Registered and made dead in one step, before any alarm can probe them.
    await inObject<PeerRegistry, void>(stub, (r, state) => {
      r.register({ cell_id: "gone", ip: "gone.test", port: 8000 });
      r.register({ cell_id: "recent", ip: "recent.test", port: 8000 });
      const now = Date.now();
      state.storage.sql.exec("UPDATE peers SET status = 'dead', dead_since = ? WHERE cell_id = 'gone'", now - 601_000);
      state.storage.sql.exec("UPDATE peers SET status = 'dead', dead_since = ? WHERE cell_id = 'recent'", now - 590_000);
    });
    // The alarm registering woke (or this one, if it has not run yet) removes the one dead too long.
    await runDurableObjectAlarm(stub);
    const listed = () => inObject<PeerRegistry, string[]>(stub, (r) => r.list().map((p) => p.cell_id));
    for (let i = 0; i < 40 && (await listed()).length !== 1; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await listed()).toEqual(["recent"]);
  });

  it("contacts a candidate and, while nobody answers there, retries it with doubling backoff", async () => {
    const stub = await freshRegistry();
    await inObject<PeerRegistry, void>(stub, (r) => r.addCandidate("http://nobody.test:8000", "seed"));
    type Candidate = { attempts: number; next_attempt: number; last_error: string };
    const candidate = async () =>
      (
        await sql<Candidate>(
          stub,
          "SELECT attempts, next_attempt, last_error FROM candidates WHERE url = 'http://nobody.test:8000'",
        )
      )[0]!;
    let before = Date.now();
    await tick(stub);
    let c = await candidate();
    expect(c).toMatchObject({ attempts: 1, last_error: "no cell answers there" });
    expect(c.next_attempt - before).toBeGreaterThanOrEqual(1000);
    expect(c.next_attempt - Date.now()).toBeLessThanOrEqual(1000);

    await tick(stub); // not due yet: untouched
    expect((await candidate()).attempts).toBe(1);

    await sql(stub, "UPDATE candidates SET next_attempt = 0");
    before = Date.now();
    await tick(stub);
    c = await candidate();
    expect(c.attempts).toBe(2);
    expect(c.next_attempt - before).toBeGreaterThanOrEqual(2000);
    expect(c.next_attempt - Date.now()).toBeLessThanOrEqual(2000);
    expect(await inObject<PeerRegistry, number>(stub, (r) => r.list().length)).toBe(0);
  });
});
