/**
 * A cell's link to a relay, against a stand-in relay (fetch stubbed): a refused cell asks again only
 * after a wait that doubles, not every poll; a news socket whose ping gets no pong is replaced.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  RELAY_PING_MS,
  RELAY_PONG_MS,
  RELAY_POLL_MS,
  RELAY_REFUSED_MS,
  RelayLink,
  type RelayHost,
} from "../../durable-objects/consciousness/relay-link";
import { generateKeyPair } from "../../durable-objects/identity/signing";
import type { SyncState } from "../../durable-objects/consciousness/sync-state";

let publicKey: string;
beforeAll(async () => {
  publicKey = (await generateKeyPair()).publicKey;
});

/** A stand-in for the state object that owns the link; `settle` waits for its background work. */
function host() {
  const pending: Promise<unknown>[] = [];
  const rounds: string[] = [];
  const h: RelayHost = {
    cellId: "cell-a",
    secret: "node-test-secret",
    state: {
      roundOk: () => rounds.push("ok"),
      roundFailed: (_peer: string, error: string) => rounds.push(`failed: ${error}`),
    } as unknown as SyncState,
    identity: () => ({ ownPublicKey: async () => publicKey, sign: async (r: Request) => r }) as never,
    vector: () => ({}),
    changesSince: () => ({ rows: [], more: false }),
    applyRemote: () => 0,
    count: () => undefined,
    background: (p) => pending.push(p),
    wake: () => undefined,
  };
  const settle = async () => {
    while (pending.length) await pending.shift();
  };
  return { h, rounds, settle };
}

/** A socket as workerd hands it out, recording what the link does with it. */
class FakeSocket {
  sent: string[] = [];
  closed = false;
  private listeners = new Map<string, ((e: { data: unknown }) => void)[]>();
  accept() {}
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.closed = true;
  }
  addEventListener(type: string, fn: (e: { data: unknown }) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  emit(type: string, data: unknown) {
    for (const fn of this.listeners.get(type) ?? []) fn({ data });
  }
}

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("a relay link", () => {
  it("refused, it stops polling and asks again after 1, then 2 minutes", async () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ["Date"] });
    const calls: string[] = [];
    vi.stubGlobal("fetch", async (req: Request) => {
      calls.push(new URL(req.url).pathname);
      return new Response("admission refused: wrong key", { status: 401 });
    });
    const { h, rounds, settle } = host();
    const link = new RelayLink(h, "http://127.0.0.1:8787");
    let next = link.tick();
    await settle();
    expect(calls).toEqual(["/relay/ws", "/relay/pull"]);
    expect(rounds.at(-1)).toMatch(/401/);
    const first = Date.now();
    expect(next).toBeLessThanOrEqual(first + RELAY_POLL_MS);
    // Polls that come due meanwhile ask nothing.
    for (const after of [RELAY_POLL_MS, 4 * RELAY_POLL_MS, RELAY_REFUSED_MS - 1000]) {
      vi.setSystemTime(first + after);
      next = link.tick();
      await settle();
    }
    expect(calls).toHaveLength(2);
    expect(next).toBe(first + RELAY_REFUSED_MS);
    vi.setSystemTime(first + RELAY_REFUSED_MS);
    link.tick();
    await settle();
    expect(calls).toEqual(["/relay/ws", "/relay/pull", "/relay/pull"]);
    const second = Date.now();
    next = link.tick();
    expect(next).toBe(second + 2 * RELAY_REFUSED_MS);
  });

  it("a socket whose ping gets no pong is closed and the link polls again; one that answers stays", async () => {
    vi.useFakeTimers({ now: 2_000_000, toFake: ["Date"] });
    const sockets: FakeSocket[] = [];
    vi.stubGlobal("fetch", async (req: Request) => {
      if (new URL(req.url).pathname === "/relay/ws") {
        const ws = new FakeSocket();
        sockets.push(ws);
        return { status: 101, webSocket: ws, body: null };
      }
      return new Response(JSON.stringify({ rows: [], vv: {}, more: false, applied: 0 }), { status: 200 });
    });
    const { h, settle } = host();
    const link = new RelayLink(h, "http://127.0.0.1:8787");
    link.tick();
    await settle();
    expect(link.connected).toBe(true);
    const start = Date.now();

    // A ping answered: the socket stays.
    vi.setSystemTime(start + RELAY_PING_MS);
    expect(link.tick()).toBe(start + RELAY_PING_MS + RELAY_PONG_MS);
    expect(sockets[0]!.sent).toEqual(["ping"]);
    sockets[0]!.emit("message", "pong");
    vi.setSystemTime(start + RELAY_PING_MS + RELAY_PONG_MS);
    link.tick();
    await settle();
    expect(link.connected).toBe(true);

    // The next ping is not answered: the socket is closed and a new one opened.
    vi.setSystemTime(start + 2 * RELAY_PING_MS);
    link.tick();
    vi.setSystemTime(start + 2 * RELAY_PING_MS + RELAY_PONG_MS - 1);
    link.tick();
    expect(sockets[0]!.closed).toBe(false);
    vi.setSystemTime(start + 2 * RELAY_PING_MS + RELAY_PONG_MS);
    link.tick();
    await settle();
    expect(sockets[0]!.closed).toBe(true);
    expect(sockets).toHaveLength(2);
    expect(link.connected).toBe(true);
  });
});
