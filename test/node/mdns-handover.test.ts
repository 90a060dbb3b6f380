/**
 * The launcher's side of zero-configuration discovery: a cell found over mDNS becomes a URL and is
 * handed to discovery (POST /candidates), tested against a fake discovery server on loopback.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHandOver, foundCell, localDiscoveryUrl, mdnsSocketOptions, serviceUrl } from "../../launcher/mdns";

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

describe("hand-over of a found cell to discovery", () => {
  let server: Server;
  let discoveryUrl = "";
  let status = 202;
  /** Requests still to be refused with 503 before `status` applies again. */
  let busyFor = 0;
  const received: Received[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        received.push({ method: req.method, url: req.url, headers: req.headers, body });
        res
          .writeHead(busyFor-- > 0 ? 503 : status, { "content-type": "application/json" })
          .end(JSON.stringify({ status: "queued" }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.40.1", resolve));
    discoveryUrl = `http://127.0.40.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  it("POSTs the cell's URL to /candidates with the API token, at most once per 30 s per URL", async () => {
    let now = 1_000_000;
    const handOver = createHandOver({ discoveryUrl, token: "hand-token", now: () => now });
    received.length = 0;
    expect((await handOver.hand("http://127.0.40.2:8000")).result).toBe("sent");
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: "POST", url: "/candidates" });
    expect(received[0]!.headers["authorization"]).toBe("Bearer hand-token");
    expect(received[0]!.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(received[0]!.body)).toEqual({ url: "http://127.0.40.2:8000" });

    now += 29_000;
    expect((await handOver.hand("http://127.0.40.2:8000")).result).toBe("debounced");
    expect((await handOver.hand("http://127.0.40.3:8000")).result).toBe("sent");
    expect(received).toHaveLength(2);
    now += 1_000;
    expect((await handOver.hand("http://127.0.40.2:8000")).result).toBe("sent");
    handOver.forget("http://127.0.40.2:8000");
    expect((await handOver.hand("http://127.0.40.2:8000")).result).toBe("sent");
    expect(received.map((r) => JSON.parse(r.body).url)).toEqual([
      "http://127.0.40.2:8000",
      "http://127.0.40.3:8000",
      "http://127.0.40.2:8000",
      "http://127.0.40.2:8000",
    ]);
  });

  it("a refused or unreachable hand-over is retried a few times, then at the next announcement", async () => {
    const handOver = createHandOver({ discoveryUrl, token: "hand-token", retryMs: [10, 10] });
    received.length = 0;
    status = 500;
    expect(await handOver.hand("http://127.0.40.4:8000")).toEqual({ result: "failed", error: "discovery answered 500" });
    expect(received).toHaveLength(3);
    status = 202;
    expect((await handOver.hand("http://127.0.40.4:8000")).result).toBe("sent");
    expect(received).toHaveLength(4);

    // Discovery busy for a moment: the second attempt gets through.
    busyFor = 1;
    received.length = 0;
    expect((await handOver.hand("http://127.0.40.5:8000")).result).toBe("sent");
    expect(received).toHaveLength(2);

    const nobody = createHandOver({ discoveryUrl: "http://127.0.40.9:9", token: "t", timeoutMs: 2000, retryMs: [10] });
    const failed = await nobody.hand("http://127.0.40.4:8000");
    expect(failed.result).toBe("failed");
    expect(failed.error).toBeTruthy();
  });

  it("stops retrying once the stack is stopping", async () => {
    let stopped = false;
    const handOver = createHandOver({ discoveryUrl, token: "hand-token", retryMs: [50, 50, 50], stopped: () => stopped });
    received.length = 0;
    status = 500;
    const result = handOver.hand("http://127.0.40.6:8000");
    stopped = true;
    expect((await result).result).toBe("failed");
    expect(received).toHaveLength(1);
    status = 202;
  });

  it("a found service becomes an IPv4 cell URL; our own and malformed announcements are ignored", () => {
    const txt = { cell_id: "laptop", discovery_port: "8001", version: "0.1.0" };
    const from = (address: string) => ({ address, family: "IPv4" });
    // No advertised address (loopback-only host): the sender's address.
    expect(foundCell({ port: 8000, addresses: [], referer: from("127.0.0.2"), txt }, "desktop")).toEqual({
      cellId: "laptop",
      url: "http://127.0.0.2:8000",
    });
    // The sender, when it is one of the advertised addresses; IPv4 over IPv6.
    expect(serviceUrl({ port: 8000, addresses: ["fd00::5", "10.0.0.5", "192.168.1.20"], referer: from("192.168.1.20") })).toBe(
      "http://192.168.1.20:8000",
    );
    // Otherwise the first advertised IPv4 address.
    expect(serviceUrl({ port: 8000, addresses: ["fd00::5", "192.168.1.20"], referer: from("10.9.9.9") })).toBe(
      "http://192.168.1.20:8000",
    );
    expect(serviceUrl({ port: 8000, addresses: ["fd00::5"] })).toBe("http://[fd00::5]:8000");
    expect(serviceUrl({ port: 0, addresses: ["192.168.1.20"] })).toBeUndefined();
    expect(serviceUrl({ port: 8000, addresses: [] })).toBeUndefined();
    expect(foundCell({ port: 8000, addresses: ["192.168.1.20"], txt }, "laptop")).toBeUndefined();
    expect(foundCell({ port: 8000, addresses: ["192.168.1.20"], txt: {} }, "desktop")).toBeUndefined();
    expect(foundCell({ port: 8000, addresses: ["192.168.1.20"], txt: { cell_id: "Bad Id!" } }, "desktop")).toBeUndefined();
  });

  it("binds mDNS to a specific address's interface, and uses the library defaults on 0.0.0.0", () => {
    expect(mdnsSocketOptions("127.0.0.2")).toEqual({ interface: "127.0.0.2", bind: "0.0.0.0", loopback: true });
    expect(mdnsSocketOptions("0.0.0.0")).toEqual({});
    expect(localDiscoveryUrl({ host: "0.0.0.0", ports: { cell: 8000, discovery: 8001, bridge: 3001, metrics: 9091 } })).toBe(
      "http://127.0.0.1:8001",
    );
    expect(localDiscoveryUrl({ host: "127.0.0.2", ports: { cell: 8000, discovery: 8002, bridge: 3001, metrics: 9091 } })).toBe(
      "http://127.0.0.2:8002",
    );
  });
});
