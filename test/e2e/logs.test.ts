/** The logs of a running stack: request ids across workers, and no secrets. */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { TestStack, until } from "../../harness/stack";

describe("logs of a running stack", () => {
  it("carry a request id from the bridge to the cell, and never a secret", async () => {
    const secrets = {
      AIOS_CLUSTER_SECRET: "cluster-secret-5f1e9a",
      AIOS_API_TOKEN: "api-token-8c2d7b",
      AIOS_MODEL_API_KEY: "model-key-3a9f0c",
    };
    const s = await TestStack.start({
      ip: "127.0.48.1",
      cellId: "logger",
      env: { ...secrets, AIOS_LOG_LEVEL: "debug", AIOS_MODEL_URL: "http://127.0.48.9:9" },
    });
    try {
      const r = await fetch(s.url("bridge", "/code-assist"), {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": "trace-4711" },
        body: JSON.stringify({ code: "x = 1\n", file: "x.py" }),
      });
      expect(r.headers.get("x-request-id")).toBe("trace-4711");
      await s.api("/messages");
      await fetch(s.url("cell", "/messages"), { headers: { authorization: "Bearer wrong-guess" } });
      const logDir = path.join(s.dir, "logs");
      const read = () =>
        readdirSync(logDir)
          .map((f) => readFileSync(path.join(logDir, f), "utf8"))
          .join("");
      await until(async () => read().includes('"service":"cell"') && read().includes("trace-4711"), 10_000);
      const lines = read()
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      for (const l of lines) {
        expect(l).toHaveProperty("time");
        expect(l).toHaveProperty("level");
        expect(l).toHaveProperty("service");
        expect(l).toHaveProperty("cell_id", "logger");
      }
      const traced = lines.filter((l) => l["request_id"] === "trace-4711");
      expect(new Set(traced.map((l) => l["service"]))).toEqual(new Set(["bridge", "cell"]));
      for (const value of Object.values(secrets)) {
        expect(read()).not.toContain(value);
        expect(s.output).not.toContain(value);
      }
    } finally {
      await s.stop();
    }
  });
});
