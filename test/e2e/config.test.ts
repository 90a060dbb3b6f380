/** Bad configuration stops start-up with one clear line and a non-zero exit; .env is read. */
import { mkdtempSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { TestStack } from "../../harness/stack";

async function failsWith(env: Record<string, string>, pattern: RegExp, ip = "127.0.11.1"): Promise<void> {
  const s = await TestStack.start({ ip, env, waitReady: false });
  const code = await s.exit();
  expect(code).not.toBe(0);
  const errorLines = s.output
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("aios:"));
  expect(errorLines).toHaveLength(1);
  expect(errorLines[0]).toMatch(pattern);
}

describe("configuration errors", () => {
  it("an unknown log level names AIOS_LOG_LEVEL", async () => {
    await failsWith({ AIOS_LOG_LEVEL: "loud" }, /AIOS_LOG_LEVEL: expected one of debug, info, warn, error, got "loud"/);
  });

  it("a port that is not a number names the variable", async () => {
    await failsWith({ AIOS_CELL_PORT: "eighty" }, /AIOS_CELL_PORT: expected a port number 1-65535, got "eighty"/);
    await failsWith({ BRIDGE_PORT: "70000" }, /BRIDGE_PORT: expected a port number/);
  });

  it("a malformed peer address names AIOS_NETWORK_PEERS", async () => {
    await failsWith({ AIOS_NETWORK_PEERS: "10.0.0.2:8000,bad host!" }, /AIOS_NETWORK_PEERS: "bad host!": bad host/);
    await failsWith({ AIOS_NETWORK_PEERS: "ftp://10.0.0.2" }, /AIOS_NETWORK_PEERS: .*unsupported scheme/);
  });

  it("a bad embedder setting names its variable", async () => {
    await failsWith({ AIOS_EMBED: "maybe" }, /AIOS_EMBED: expected builtin or off, got "maybe"/);
    await failsWith({ AIOS_EMBED_URL: "ftp://10.0.0.2" }, /AIOS_EMBED_URL: expected an http\(s\) URL/);
    await failsWith({ AIOS_EMBED_TIMEOUT_MS: "soon" }, /AIOS_EMBED_TIMEOUT_MS: expected a whole number of milliseconds/);
  });

  it("a port already in use names the port", async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(8001, "127.0.11.2", r));
    try {
      await failsWith({}, /DISCOVERY_PORT: port 8001 on 127\.0\.11\.2 is already in use/, "127.0.11.2");
    } finally {
      blocker.close();
    }
  });
});

describe(".env file", () => {
  it("settings come from .env in the working folder; environment variables win; an unused old one is named", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "aios-dotenv-"));
    writeFileSync(
      path.join(dir, ".env"),
      "# comment\nAIOS_CELL_ID=from-dotenv\nAIOS_BRANCH='feature-x'\nAIOS_LOG_LEVEL=loud\nAIOS_CELL_ADDR=http://cell:8000\n",
    );
    const s = await TestStack.start({ ip: "127.0.11.3", cwd: dir, cellId: "", env: { AIOS_LOG_LEVEL: "warn" } });
    try {
      const h = await s.json("cell", "/health");
      expect(h["cell_id"]).toBe("from-dotenv");
      expect(h["branch"]).toBe("feature-x");
      expect(s.output).toMatch(/"level":"warn".*"msg":"AIOS_CELL_ADDR is ignored/);
    } finally {
      await s.stop();
    }
  });
});
