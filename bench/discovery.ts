/**
 * Discovery figures: time for a seeded peer to be listed alive after it
 * starts, time to declare a killed peer dead, and the duration of a /24 scan
 * in which no address answers (254 silent listeners that accept and never
 * reply, the worst case: every probe waits for its timeout).
 */
import net from "node:net";
import { TestStack, until } from "../harness/stack";
import { report, type Figure } from "./stats";
import { median } from "../harness/measure";

const RUNS = 3;
const secret = { AIOS_CLUSTER_SECRET: "bench-secret", AIOS_API_TOKEN: "bench", AIOS_LOG_LEVEL: "warn" };

async function statusOf(s: TestStack, id: string): Promise<string | undefined> {
  const list = await s.json<{ peers: { cell_id: string; status: string }[] }>("discovery", "/peers");
  return list.peers.find((p) => p.cell_id === id)?.status;
}

export async function benchDiscovery(root: string): Promise<Figure[]> {
  const home = await TestStack.start({ ip: "127.0.22.1", cellId: "home", env: secret });
  const alive: number[] = [];
  const ready: number[] = [];
  const dead: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const t0 = Date.now();
      const peer = await TestStack.start({
        ip: "127.0.22.2",
        cellId: `peer-${i}`,
        env: { ...secret, AIOS_NETWORK_PEERS: "127.0.22.1" },
        waitReady: false,
      });
      await until(async () => (await statusOf(home, `peer-${i}`)) === "alive", 20_000, 25);
      alive.push(Date.now() - t0);
      await peer.ready();
      // "within 2 s of its start": its start is the moment all its ports answer.
      ready.push(Date.now() - t0);
      const killedAt = Date.now();
      await peer.kill9();
      await until(async () => (await statusOf(home, `peer-${i}`)) === "dead", 20_000, 25);
      dead.push(Date.now() - killedAt);
      await fetch(home.url("discovery", `/unregister/peer-${i}`), {
        method: "DELETE",
        headers: { authorization: "Bearer bench" },
      });
    }
    // A /24 of silent listeners.
    const servers: net.Server[] = [];
    const sockets = new Set<net.Socket>();
    for (let h = 1; h <= 254; h++) {
      const server = net.createServer((sock) => {
        sockets.add(sock);
        sock.on("close", () => sockets.delete(sock));
      });
      await new Promise<void>((r) => server.listen(8000, `127.0.23.${h}`, r));
      servers.push(server);
    }
    let scanMs = NaN;
    try {
      const t = Date.now();
      const start = await fetch(home.url("discovery", "/scan"), {
        method: "POST",
        headers: { authorization: "Bearer bench" },
        body: JSON.stringify({ ranges: "127.0.23.0/24" }),
      });
      if (start.status !== 202) throw new Error(`scan refused: ${await start.text()}`);
      await until(async () => (await home.json<{ status: string }>("discovery", "/scan")).status === "finished", 60_000, 50);
      scanMs = Date.now() - t;
    } finally {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
    const aliveAfterStart = median(alive);
    const figures: Figure[] = [
      {
        figure: "seeded peer listed alive, from launching it (median)",
        value: aliveAfterStart,
        unit: "ms",
        reference: "that peer's own start-up (ports answering)",
        referenceValue: median(ready),
        ratio: aliveAfterStart / median(ready),
        target: "alive within 2 s of its start (listed - ready < 2000 ms)",
        met: aliveAfterStart - median(ready) < 2000,
      },
      {
        figure: "killed peer declared dead (median)",
        value: median(dead),
        unit: "ms",
        reference: "memberlist LAN default, about 5-6 s",
        referenceValue: 5500,
        ratio: median(dead) / 5500,
        target: "< 5000 ms",
        met: median(dead) < 5000,
      },
      {
        figure: "/24 scan, no address answering (254 silent listeners)",
        value: scanMs,
        unit: "ms",
        reference: "one probe timeout x 254 / 64 in flight",
        referenceValue: (700 * 254) / 64,
        ratio: scanMs / ((700 * 254) / 64),
        target: "< 10000 ms",
        met: scanMs < 10_000,
      },
    ];
    report("discovery", figures, root);
    return figures;
  } finally {
    await home.stop();
  }
}
