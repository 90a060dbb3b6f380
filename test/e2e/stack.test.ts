/** The whole stack of one machine, started as `npm start` would, over real sockets. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, TestStack, until } from "../../harness/stack";

const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };

describe("one stack on 127.0.10.1", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await TestStack.start({ ip: "127.0.10.1", cellId: "e2e-one" });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("prints where each service listens", async () => {
    await until(async () => stack.output.includes("metrics   listening"), 5000);
    for (const [service, port] of [
      ["cell", 8000],
      ["discovery", 8001],
      ["bridge", 3001],
      ["metrics", 9091],
    ] as const) {
      expect(stack.output).toMatch(new RegExp(`${service}\\s+listening on http://127\\.0\\.10\\.1:${port}`));
    }
  });

  it("cell /health has the contract's fields with measured values", async () => {
    const h = await stack.json("cell", "/health");
    expect(h).toMatchObject({
      status: "healthy",
      cell_id: "e2e-one",
      type: "cell",
      version: pkg.version,
      peers: { known: 0, alive: 0 },
    });
    expect(typeof h["hostname"]).toBe("string");
    expect(typeof h["branch"]).toBe("string");
    expect(Array.isArray(h["services"])).toBe(true);
    // A lone cell knows every cell there is and agrees with itself: 0.85 plus its write momentum.
    expect(h["consciousness_level"]).toBeGreaterThanOrEqual(0.85);
    expect(h["consciousness_level"]).toBeLessThanOrEqual(1);
    const first = h["uptime_seconds"] as number;
    await until(async () => ((await stack.json("cell", "/health"))["uptime_seconds"] as number) > first, 5000, 200);
  });

  it("discovery /health and /peers have the contract's shape", async () => {
    const h = await stack.json("discovery", "/health");
    expect(h).toMatchObject({ status: "healthy", cell_id: "e2e-one", type: "discovery", peers_count: 0 });
    expect(h["consciousness_level"]).toBe((await stack.json("cell", "/health"))["consciousness_level"]);
    const peers = await stack.json("discovery", "/peers");
    expect(peers).toEqual({ peers: [], count: 0, my_host: "127.0.10.1" });
  });

  it("bridge /health reports which services answer", async () => {
    const h = await stack.json("bridge", "/health");
    expect(h).toMatchObject({
      status: "healthy",
      services: { cell: "up", discovery: "up", bridge: "up" },
      cell_info: { cell_id: "e2e-one" },
      cell_url: "http://127.0.10.1:8000/",
    });
  });

  it("metrics: valid text format with build info and per-service request counters that rise", async () => {
    const scrape = async () => {
      const r = await fetch(stack.url("metrics", "/metrics"));
      expect(r.headers.get("content-type")).toContain("text/plain; version=0.0.4");
      return r.text();
    };
    expect(await (await fetch(stack.url("metrics", "/health"))).text()).toBe("OK\n");
    for (let i = 0; i < 3; i++) await fetch(stack.url("cell", "/health"));
    const text = await until(async () => {
      const t = await scrape();
      return /aios_http_requests_total\{service="cell",route="\/health",status="200"\} ([3-9]|\d{2,})/.test(t) && t;
    }, 5000);
    expect(text).toContain(`aios_build_info{version="${pkg.version}"`);
    expect(text).toMatch(/aios_http_request_duration_seconds_bucket\{service="cell",route="\/health",le="\+Inf"\} \d+/);
    for (const line of text.trim().split("\n")) {
      expect(line).toMatch(
        /^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[a-z_]+="(?:[^"\\]|\\.)*"(,[a-z_]+="(?:[^"\\]|\\.)*")*\})? [-+0-9.eEaInf]+)$/,
      );
    }
  });

  it("unknown paths give JSON 404 and wrong methods JSON 405, never a stack trace", async () => {
    for (const service of ["cell", "discovery", "bridge", "metrics"] as const) {
      const r404 = await fetch(stack.url(service, "/no/such/thing"));
      expect(r404.status).toBe(404);
      const b404 = (await r404.json()) as { error: string };
      expect(b404.error).toContain("/no/such/thing");
      const r405 = await fetch(stack.url(service, "/health"), { method: "DELETE" });
      expect(r405.status).toBe(405);
      expect(r405.headers.get("allow")).toContain("GET");
      const text = JSON.stringify(await r405.json());
      expect(text).not.toMatch(/at \w+ \(|\.ts:\d+/);
    }
  });

  it("the bridge refuses web origins and non-loopback host names", async () => {
    const evil = await fetch(stack.url("bridge", "/health"), { headers: { origin: "https://evil.example" } });
    expect(evil.status).toBe(403);
    const vscode = await fetch(stack.url("bridge", "/health"), { headers: { origin: "vscode-webview://abc" } });
    expect(vscode.status).toBe(200);
    const rebinding = execFileSync("curl", [
      "-s",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "-H",
      "Host: attacker.example",
      stack.url("bridge", "/health"),
    ]);
    expect(rebinding.toString()).toBe("403");
  });

  it("writes JSON-lines logs to AIOS_LOG_DIR", () => {
    const dir = path.join(stack.dir, "logs");
    const files = readdirSync(dir).filter((f) => /^aios-\d{4}-\d{2}-\d{2}\.log$/.test(f));
    expect(files.length).toBe(1);
    const lines = readFileSync(path.join(dir, files[0]!), "utf8").trim().split("\n");
    for (const line of lines) {
      const rec = JSON.parse(line) as Record<string, unknown>;
      expect(rec).toHaveProperty("time");
      expect(rec).toHaveProperty("level");
      expect(rec).toHaveProperty("service");
    }
    expect(lines.some((l) => l.includes('"msg":"ready"'))).toBe(true);
  });
});

describe("lifecycle", () => {
  it("two stacks run side by side on 127.0.10.2 and 127.0.10.3 with the same ports and separate data", async () => {
    const [a, b] = await Promise.all([
      TestStack.start({ ip: "127.0.10.2", cellId: "side-a" }),
      TestStack.start({ ip: "127.0.10.3", cellId: "side-b" }),
    ]);
    try {
      expect((await a.json("cell", "/health"))["cell_id"]).toBe("side-a");
      expect((await b.json("cell", "/health"))["cell_id"]).toBe("side-b");
      expect(a.dir).not.toBe(b.dir);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it("SIGINT and SIGTERM stop it cleanly with exit code 0, leaving nothing in the temporary folder", async () => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      // The runtime's scratch files go under the data folder (emptied at the next start), not TMPDIR.
      const tmp = mkdtempSync(path.join(os.tmpdir(), "aios-tmpdir-"));
      const s = await TestStack.start({ ip: "127.0.10.4", env: { TMPDIR: tmp } });
      expect(await s.stop(signal)).toBe(0);
      expect(s.output).toContain('"msg":"stopped"');
      await expect(fetch(s.url("cell", "/health"))).rejects.toThrow();
      expect(readdirSync(tmp)).toEqual([]);
    }
  });

  it("restarts the runtime with backoff when it dies, and says so in the log", async () => {
    const s = await TestStack.start({ ip: "127.0.10.5" });
    try {
      const workerd = execFileSync("pgrep", ["-P", String(s.child.pid), "workerd"])
        .toString()
        .trim()
        .split("\n")[0]!;
      process.kill(Number(workerd), "SIGKILL");
      await until(async () => s.output.includes("runtime exited unexpectedly"), 10_000);
      await until(async () => s.output.includes('"msg":"runtime restarted"'), 20_000);
      await s.ready();
      expect((await s.json("cell", "/health"))["status"]).toBe("healthy");
      // The restart is counted durably, for alerting.
      const scrape = await (await fetch(s.url("metrics", "/metrics"))).text();
      expect(scrape).toMatch(/aios_runtime_restarts_total\{cell_id="[^"]+"\} 1\n/);
    } finally {
      await s.stop();
    }
  });
});
