/**
 * Registration by hand, scans, and the refusal of unsigned, forged,
 * tampered, replayed and stale inter-cell requests.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair, signRequest } from "../../durable-objects/identity/signing";
import { TestStack, until } from "../../harness/stack";

const TOKEN = "auth-token";
const H = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };

describe("discovery: registration, scan and signatures", () => {
  let s: TestStack;
  let scanned: TestStack[] = [];
  beforeAll(async () => {
    s = await TestStack.start({ ip: "127.0.32.1", cellId: "home", env: { AIOS_API_TOKEN: TOKEN, AIOS_CLUSTER_SECRET: "shh" } });
  });
  afterAll(async () => {
    await Promise.all([s, ...scanned].map((x) => x?.stop()));
  });

  const url = (p: string) => s.url("discovery", p);

  it("legacy register, heartbeat and unregister work with the token, and refuse without it", async () => {
    const info = { cell_id: "script-cell", ip: "127.0.32.99", port: 8000, consciousness_level: 0.5, services: ["x"] };
    expect((await fetch(url("/register"), { method: "POST", body: JSON.stringify(info) })).status).toBe(401);
    const r = await fetch(url("/register"), { method: "POST", headers: H, body: JSON.stringify(info) });
    expect(r.status).toBe(201);
    expect(await r.json()).toEqual({ status: "registered", cell_id: "script-cell" });
    for (const alias of ["/peers/register", "/peers"]) {
      expect(
        (
          await fetch(url(alias), {
            method: "POST",
            headers: H,
            body: JSON.stringify({ ...info, cell_id: `alias${alias.length}` }),
          })
        ).status,
      ).toBe(201);
    }
    const listed = (await (await fetch(url("/peers"))).json()) as { peers: { cell_id: string; source: string }[] };
    expect(listed.peers.find((p) => p.cell_id === "script-cell")?.source).toBe("register");
    const hb = await fetch(url("/heartbeat"), {
      method: "POST",
      headers: H,
      body: JSON.stringify({ cell_id: "script-cell", consciousness_level: 0.9 }),
    });
    expect(hb.status).toBe(200);
    expect(
      (await fetch(url("/heartbeat"), { method: "POST", headers: H, body: JSON.stringify({ cell_id: "nobody" }) })).status,
    ).toBe(404);
    expect((await fetch(url("/unregister/script-cell"), { method: "DELETE", headers: H })).status).toBe(200);
    expect((await fetch(url("/unregister/script-cell"), { method: "DELETE", headers: H })).status).toBe(404);
    expect((await fetch(url("/peers/alias6"), { method: "DELETE", headers: H })).status).toBe(200);
    const bad = await fetch(url("/register"), {
      method: "POST",
      headers: H,
      body: JSON.stringify({ cell_id: "Bad Id!", ip: "x", port: 99999 }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/cell_id/);
  });

  it("refuses unsigned, forged, tampered, replayed and stale signed requests with 401", async () => {
    const key = await generateKeyPair();
    const other = await generateKeyPair();
    const reg = { cell_id: "signer", ip: "127.0.32.98", port: 8000, public_key: key.publicKey };
    expect((await fetch(url("/register"), { method: "POST", headers: H, body: JSON.stringify(reg) })).status).toBe(201);
    const legacy = JSON.stringify({ cell_id: "signer", consciousness_level: 0.4 });
    const sign = (body: string, privateKey = key.privateKey, now?: number) =>
      signRequest(
        new Request(url("/register"), { method: "POST", headers: { "content-type": "application/json" }, body }),
        { keyId: "signer", privateKey },
        { target: "home", now },
      );
    const good = await sign(JSON.stringify(reg));
    const replay = good.clone();
    expect((await fetch(good)).status).toBe(201);
    expect((await fetch(replay)).status).toBe(401);
    const forged = await sign(JSON.stringify(reg), other.privateKey);
    expect((await fetch(forged)).status).toBe(401);
    const stale = await sign(JSON.stringify(reg), key.privateKey, Date.now() - 10 * 60 * 1000);
    expect((await fetch(stale)).status).toBe(401);
    const future = await sign(JSON.stringify(reg), key.privateKey, Date.now() + 10 * 60 * 1000);
    expect((await fetch(future)).status).toBe(401);
    const original = await sign(JSON.stringify(reg));
    const tampered = new Request(original.url, {
      method: "POST",
      headers: original.headers,
      body: JSON.stringify({ ...reg, port: 9999 }),
    });
    expect((await fetch(tampered)).status).toBe(401);
    const unsigned = await fetch(url("/heartbeat"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: legacy,
    });
    expect(unsigned.status).toBe(401);
    // A pinned id cannot be re-pinned to another key, not even with the token.
    const steal = await fetch(url("/register"), {
      method: "POST",
      headers: H,
      body: JSON.stringify({ ...reg, public_key: other.publicKey }),
    });
    expect(steal.status).toBe(409);
  });

  it("POST /scan finds stacks on a small loopback range with no seeds; GET /scan shows progress", async () => {
    scanned = await Promise.all([
      TestStack.start({ ip: "127.0.32.11", cellId: "found-one", env: { AIOS_CLUSTER_SECRET: "shh" } }),
      TestStack.start({ ip: "127.0.32.12", cellId: "found-two", env: { AIOS_CLUSTER_SECRET: "shh" } }),
    ]);
    const bad = await fetch(url("/scan"), { method: "POST", headers: H, body: JSON.stringify({ ranges: "10.0.0.0/8" }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/bigger than a \/16/);
    const start = await fetch(url("/scan"), {
      method: "POST",
      headers: H,
      body: JSON.stringify({ ranges: "127.0.32.10-127.0.32.20" }),
    });
    expect(start.status).toBe(202);
    const done = await until(async () => {
      const r = (await (await fetch(url("/scan"))).json()) as {
        status: string;
        scan: { probed: number; total: number; found: { cell_id: string }[] };
      };
      return r.status === "finished" && r;
    }, 15_000);
    expect(done.scan.probed).toBe(done.scan.total);
    expect(done.scan.total).toBe(11);
    expect(done.scan.found.map((f) => f.cell_id).sort()).toEqual(["found-one", "found-two"]);
    await until(async () => {
      const list = (await (await fetch(url("/peers"))).json()) as {
        peers: { cell_id: string; status: string; source: string }[];
      };
      return ["found-one", "found-two"].every((id) =>
        list.peers.some((p) => p.cell_id === id && p.status === "alive" && p.source === "scan"),
      );
    }, 10_000);
  });
});
