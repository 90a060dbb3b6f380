/**
 * Zero-configuration discovery: the launcher advertises its cell over mDNS
 * (`_aios-cell._tcp`), browses for others and hands each one it finds to
 * discovery (POST /candidates). The hand-over is tested against a fake
 * discovery server; the whole path between two real stacks runs inside a
 * network namespace of its own (loopback with multicast), created here.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHandOver, foundCell, localDiscoveryUrl, mdnsSocketOptions, serviceUrl } from "../../launcher/mdns";
import { ROOT, sleep, until } from "../../harness/stack";

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
  const received: Received[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        received.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ status: "queued" }));
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
    expect(await handOver.hand("http://127.0.40.2:8000")).toBe("sent");
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: "POST", url: "/candidates" });
    expect(received[0]!.headers["authorization"]).toBe("Bearer hand-token");
    expect(received[0]!.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(received[0]!.body)).toEqual({ url: "http://127.0.40.2:8000" });

    now += 29_000;
    expect(await handOver.hand("http://127.0.40.2:8000")).toBe("debounced");
    expect(await handOver.hand("http://127.0.40.3:8000")).toBe("sent");
    expect(received).toHaveLength(2);
    now += 1_000;
    expect(await handOver.hand("http://127.0.40.2:8000")).toBe("sent");
    handOver.forget("http://127.0.40.2:8000");
    expect(await handOver.hand("http://127.0.40.2:8000")).toBe("sent");
    expect(received.map((r) => JSON.parse(r.body).url)).toEqual([
      "http://127.0.40.2:8000",
      "http://127.0.40.3:8000",
      "http://127.0.40.2:8000",
      "http://127.0.40.2:8000",
    ]);
  });

  it("a refused or unreachable hand-over fails quietly and is retried at the next announcement", async () => {
    const handOver = createHandOver({ discoveryUrl, token: "hand-token" });
    received.length = 0;
    status = 500;
    expect(await handOver.hand("http://127.0.40.4:8000")).toBe("failed");
    status = 202;
    expect(await handOver.hand("http://127.0.40.4:8000")).toBe("sent");
    expect(received).toHaveLength(2);

    const nobody = createHandOver({ discoveryUrl: "http://127.0.40.9:9", token: "t", timeoutMs: 2000 });
    expect(await nobody.hand("http://127.0.40.4:8000")).toBe("failed");
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

// ---- two real stacks in a network namespace ---------------------------------

const NS = `aios-mdns-${process.pid}`;
/** A second namespace where UDP port 5353 is taken, so mDNS fails there. */
const NS_BUSY = `aios-mdns-${process.pid}-busy`;
const SECRET = "mdns shared cluster secret";
const TOKEN = "mdns-api-token";

interface PeerList {
  peers: { cell_id: string; status: string; source: string; url: string }[];
  count: number;
}

function ip(args: string[]): string | undefined {
  const r = spawnSync("ip", args, { encoding: "utf8", timeout: 10_000 });
  if (r.error) return `ip ${args.join(" ")}: ${r.error.message}`;
  return r.status === 0 ? undefined : `ip ${args.join(" ")}: ${(r.stderr || r.stdout).trim() || `exit ${r.status}`}`;
}

const created: string[] = [];

/** Creates a namespace with a multicast-capable loopback; the problem, if it cannot. */
function createNamespace(ns: string): string | undefined {
  const problem = ip(["netns", "add", ns]);
  if (problem) return problem;
  created.push(ns);
  for (const step of [
    ["link", "set", "lo", "up"],
    ["link", "set", "lo", "multicast", "on"],
    ["route", "add", "224.0.0.0/4", "dev", "lo"],
  ]) {
    const failed = ip(["-n", ns, ...step]);
    if (failed) return failed;
  }
  return undefined;
}

/** curl inside a namespace (bounded by its own timeouts). */
function nsGet(ns: string, url: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile("ip", ["netns", "exec", ns, "curl", "-s", "-m", "2", url], { timeout: 5000 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    ),
  );
}

/** Every process started here, so afterAll stops them even when a start-up failed half-way. */
const spawned: NsProcess[] = [];

/** A process in a namespace, in its own process group; stop() takes the whole group down. */
class NsProcess {
  output = "";
  exited = false;
  readonly child: ChildProcess;
  private readonly exit: Promise<void>;

  constructor(ns: string, command: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.child = spawn("ip", ["netns", "exec", ns, ...command], {
      ...opts,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    this.child.stdout!.on("data", (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on("data", (d: Buffer) => (this.output += d.toString()));
    this.exit = new Promise((resolve) => this.child.on("exit", () => ((this.exited = true), resolve())));
    spawned.push(this);
  }

  /** Waits (bounded) for `text` in the output. */
  async waitFor(text: string, timeoutMs = 60_000): Promise<number> {
    await until(async () => {
      if (this.exited) throw new Error(`exited: ${this.output}`);
      return this.output.includes(text);
    }, timeoutMs);
    return Date.now();
  }

  /** SIGTERM to the process group, SIGKILL if it has not gone after a while. */
  async stop(): Promise<void> {
    const group = -this.child.pid!;
    const kill = (signal: NodeJS.Signals) => {
      try {
        process.kill(group, signal);
      } catch {
        // already gone
      }
    };
    if (!this.exited) {
      kill("SIGTERM");
      const timer = setTimeout(() => kill("SIGKILL"), 10_000);
      await this.exit;
      clearTimeout(timer);
    }
    kill("SIGKILL"); // anything left behind in the group
  }
}

class NsStack extends NsProcess {
  readonly dir: string;

  constructor(
    readonly ns: string,
    readonly host: string,
    readonly cellId: string,
    mdns: "on" | "off",
  ) {
    const dir = mkdtempSync(path.join(os.tmpdir(), "aios-mdns-"));
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (!/^(AIOS_|CELL_ID$|DISCOVERY_PORT$|BRIDGE_PORT$|VAULT_TOKEN$)/.test(k)) env[k] = v;
    }
    Object.assign(env, {
      AIOS_HOST: host,
      AIOS_BRIDGE_HOST: host,
      AIOS_DATA_DIR: path.join(dir, "data"),
      AIOS_LOG_DIR: path.join(dir, "logs"),
      AIOS_CELL_ID: cellId,
      AIOS_CLUSTER_SECRET: SECRET,
      AIOS_API_TOKEN: TOKEN,
      AIOS_MDNS: mdns,
    });
    super(ns, [process.execPath, path.join(ROOT, "bin", "aios.mjs"), "start"], { cwd: dir, env });
    this.dir = dir;
  }

  /**
   * Resolves once the launcher runs its own code (it has made its data folder), i.e. has
   * finished loading .build/aios.mjs, which every `bin/aios.mjs` rewrites as it starts.
   */
  async launched(): Promise<void> {
    await until(async () => {
      if (this.exited) throw new Error(`exited: ${this.output}`);
      return existsSync(path.join(this.dir, "data"));
    }, 30_000);
  }

  ready(): Promise<number> {
    return this.waitFor('"msg":"ready"');
  }

  get(service: "cell" | "discovery", p: string): Promise<string> {
    return nsGet(this.ns, `http://${this.host}:${service === "cell" ? 8000 : 8001}${p}`);
  }

  async peers(): Promise<PeerList> {
    return JSON.parse(await this.get("discovery", "/peers")) as PeerList;
  }

  async statusOf(id: string): Promise<string | undefined> {
    return (await this.peers()).peers.find((p) => p.cell_id === id)?.status;
  }

  logLines(): Record<string, unknown>[] {
    return this.output
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  override async stop(): Promise<void> {
    await super.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe("stacks on one LAN find each other over mDNS (network namespace)", () => {
  let problem: string | undefined;
  let a: NsStack, b: NsStack, c: NsStack, d: NsStack, e: NsStack, blocker: NsProcess;
  let readyAt = 0;
  let foundAfterMs = 0;

  beforeAll(async () => {
    problem = createNamespace(NS) ?? createNamespace(NS_BUSY);
    if (problem) {
      console.warn(
        `SKIPPING the mDNS network-namespace tests: they need root (or CAP_SYS_ADMIN) and iproute2 to create ` +
          `network namespaces, and that failed: ${problem}. Only the hand-over tests ran.`,
      );
      return;
    }
    // Port 5353 held without SO_REUSEADDR: the mDNS socket of a stack there cannot bind.
    blocker = new NsProcess(NS_BUSY, [
      process.execPath,
      "-e",
      "require('node:dgram').createSocket({ type: 'udp4', reuseAddr: false }).bind(5353, '0.0.0.0', () => console.log('bound'))",
    ]);
    await blocker.waitFor("bound", 10_000);
    // Two stacks advertise and browse; two more have mDNS off. No seeds, no scans. Each is
    // started once the one before has loaded the launcher bundle (they all rewrite it).
    const start = async (...args: ConstructorParameters<typeof NsStack>) => {
      const stack = new NsStack(...args);
      await stack.launched();
      return stack;
    };
    a = await start(NS, "127.0.0.1", "mdns-a", "on");
    b = await start(NS, "127.0.0.2", "mdns-b", "on");
    c = await start(NS, "127.0.0.3", "quiet-c", "off");
    d = await start(NS, "127.0.0.4", "quiet-d", "off");
    e = await start(NS_BUSY, "127.0.0.1", "busy-e", "on");
    readyAt = Math.max(...(await Promise.all([a, b, c, d, e].map((s) => s.ready()))));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(spawned.map((s) => s.stop()));
    for (const ns of created) ip(["netns", "del", ns]);
  }, 60_000);

  it("each lists the other as alive, found by mDNS alone", async (ctx) => {
    if (problem) return ctx.skip(`no network namespace: ${problem}`);
    await until(async () => (await a.statusOf("mdns-b")) === "alive" && (await b.statusOf("mdns-a")) === "alive", 20_000, 250);
    foundAfterMs = Date.now() - readyAt;
    const onA = (await a.peers()).peers.find((p) => p.cell_id === "mdns-b")!;
    const onB = (await b.peers()).peers.find((p) => p.cell_id === "mdns-a")!;
    expect(onA.url).toBe("http://127.0.0.2:8000");
    expect(onB.url).toBe("http://127.0.0.1:8000");
    // Found by mDNS = contacted like a scan result; a cell whose hello came first is "register".
    expect(["scan", "register"]).toContain(onA.source);
    expect(["scan", "register"]).toContain(onB.source);

    for (const [s, other, url] of [
      [a, "mdns-b", "http://127.0.0.2:8000"],
      [b, "mdns-a", "http://127.0.0.1:8000"],
    ] as const) {
      const lines = s.logLines();
      expect(lines).toContainEqual(expect.objectContaining({ msg: "mdns advertising", cell_id: s.cellId }));
      expect(lines).toContainEqual(expect.objectContaining({ msg: "mdns found cell", cell_id: s.cellId, peer: other, url }));
      expect(s.output).not.toContain(SECRET);
      expect(s.output).not.toContain(TOKEN);
    }
  });

  it("with AIOS_MDNS=off nothing is found in the same time", async (ctx) => {
    if (problem) return ctx.skip(`no network namespace: ${problem}`);
    // Give the quiet stacks at least as long as the others needed (and 5 s).
    const wait = Math.max(foundAfterMs, 5000) - (Date.now() - readyAt);
    if (wait > 0) await sleep(wait);
    expect((await c.peers()).count).toBe(0);
    expect((await d.peers()).count).toBe(0);
    for (const s of [a, b]) {
      const ids = (await s.peers()).peers.map((p) => p.cell_id);
      expect(ids).not.toContain("quiet-c");
      expect(ids).not.toContain("quiet-d");
    }
    for (const s of [c, d]) {
      expect(s.output).not.toContain('"msg":"mdns advertising"');
      expect(s.output).not.toContain('"msg":"mdns found cell"');
    }
  });

  it("an mDNS failure (port 5353 taken) is a warning, and the stack runs on", async (ctx) => {
    if (problem) return ctx.skip(`no network namespace: ${problem}`);
    await until(async () => e.output.includes("mdns is unavailable"), 10_000);
    expect(e.logLines()).toContainEqual(
      expect.objectContaining({ level: "warn", msg: "mdns is unavailable; LAN discovery by mDNS is off", cell_id: "busy-e" }),
    );
    expect(e.exited).toBe(false);
    expect(JSON.parse(await e.get("cell", "/health"))).toMatchObject({ cell_id: "busy-e" });
    expect(blocker.exited).toBe(false);
  });
});
