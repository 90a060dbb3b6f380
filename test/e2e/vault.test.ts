/**
 * Secrets from HashiCorp Vault. No Vault server is available here, so a small
 * HTTP server on loopback follows Vault's documented answers: GET
 * /v1/sys/health (200 active, 429 standby, 472/473 secondaries, 501 not
 * initialised, 503 sealed) and the KV v2 read GET /v1/<mount>/data/<path>
 * with X-Vault-Token ({"data":{"data":{…},"metadata":{…}}}; 403
 * {"errors":["permission denied"]} for a bad token; 404 {"errors":[]} for no
 * secret). Real stacks start against it; their logs never hold a secret.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readVault } from "../../launcher/vault";
import { TestStack, until } from "../../harness/stack";

const VAULT_IP = "127.0.41.100";
const DOWN_IP = "127.0.41.102";
const VAULT_PORT = 8200;
const MODEL_PORT = 8300;
const ROOT_TOKEN = "hvs.e2eRootToken7c3b9f21d0a4";
const WRONG_TOKEN = "hvs.e2eWrongToken55e1aa90c2";
const FROM_VAULT = {
  AIOS_API_TOKEN: "vault-api-token-4e8d2c61b7",
  AIOS_CLUSTER_SECRET: "vault-cluster-secret-0f93ab17",
  AIOS_MODEL_API_KEY: "sk-vault-model-key-6a2e58d4c9",
};
const FROM_ENV = {
  AIOS_API_TOKEN: "env-api-token-91c7e3f0b2",
  AIOS_CLUSTER_SECRET: "env-cluster-secret-d4a6b8e1",
  AIOS_MODEL_API_KEY: "sk-env-model-key-3b7f0c2e9d",
};
const ALL_SECRETS = [ROOT_TOKEN, WRONG_TOKEN, ...Object.values(FROM_VAULT), ...Object.values(FROM_ENV)];

type Health = "active" | "standby" | "dr_secondary" | "perf_standby" | "uninitialised" | "sealed" | "hang";
const HEALTH_STATUS: Record<Exclude<Health, "hang">, number> = {
  active: 200,
  standby: 429,
  dr_secondary: 472,
  perf_standby: 473,
  uninitialised: 501,
  sealed: 503,
};

interface Seen {
  url: string;
  token: string | undefined;
}

/** Vault as its API documentation describes it, for sys/health and KV v2 reads. */
class FakeVault {
  health: Health = "active";
  /** API path (below /v1/) → the secret's key/value data. */
  secrets = new Map<string, Record<string, unknown>>();
  seen: Seen[] = [];
  private server: Server;
  private hanging = new Set<ServerResponse>();

  constructor(readonly token: string) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  listen(ip: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, ip, () => resolve());
    });
  }

  async close(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(() => r(undefined)));
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://vault");
    const token = req.headers["x-vault-token"];
    this.seen.push({ url: url.pathname, token: typeof token === "string" ? token : undefined });
    if (req.method !== "GET") return this.send(res, 405, { errors: [] });
    if (url.pathname === "/v1/sys/health") {
      if (this.health === "hang") {
        this.hanging.add(res);
        return;
      }
      const sealed = this.health === "sealed";
      return this.send(res, HEALTH_STATUS[this.health], {
        initialized: this.health !== "uninitialised",
        sealed,
        standby: this.health === "standby" || this.health === "perf_standby",
        performance_standby: this.health === "perf_standby",
        replication_performance_mode: "disabled",
        replication_dr_mode: this.health === "dr_secondary" ? "secondary" : "disabled",
        server_time_utc: Math.floor(Date.now() / 1000),
        version: "1.17.2",
        cluster_name: "vault-cluster-e2e",
        cluster_id: "5f1c2c1e-0000-4000-8000-000000000001",
      });
    }
    if (this.health === "sealed") return this.send(res, 503, { errors: ["Vault is sealed"] });
    if (token !== this.token) return this.send(res, 403, { errors: ["permission denied"] });
    const data = this.secrets.get(url.pathname.replace(/^\/v1\//, ""));
    if (!data) return this.send(res, 404, { errors: [] });
    this.send(res, 200, {
      request_id: "8b7a6c5d-0000-4000-8000-000000000002",
      lease_id: "",
      renewable: false,
      lease_duration: 0,
      data: {
        data,
        metadata: {
          created_time: "2026-11-20T09:15:02.123456Z",
          custom_metadata: null,
          deletion_time: "",
          destroyed: false,
          version: 3,
        },
      },
      wrap_info: null,
      warnings: null,
      auth: null,
    });
  }
}

/** An OpenAI-compatible endpoint that only records which key it was called with. */
function modelServer(keys: string[]): Server {
  return createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      keys.push(String(req.headers.authorization ?? ""));
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id: "chatcmpl-e2e",
          object: "chat.completion",
          created: 1,
          model: "fake",
          choices: [{ index: 0, message: { role: "assistant", content: "looks fine" }, finish_reason: "stop" }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }),
      );
    });
  });
}

interface VaultStatusBody {
  status: string;
  vault: string;
  address_configured: boolean;
  keys_from_vault: string[];
  problem?: string;
}

async function vaultStatus(s: TestStack): Promise<{ body: VaultStatusBody; raw: string }> {
  const raw = await (await fetch(s.url("bridge", "/vault-status"))).text();
  return { body: JSON.parse(raw) as VaultStatusBody, raw };
}

function messages(s: TestStack, token: string): Promise<Response> {
  return fetch(s.url("cell", "/messages"), { headers: { authorization: `Bearer ${token}` } });
}

/** Everything a stack wrote: its stdout/stderr and every log file. */
function everythingLogged(s: TestStack): string {
  const dir = path.join(s.dir, "logs");
  const files = readdirSync(dir).map((f) => readFileSync(path.join(dir, f), "utf8"));
  expect(files.length).toBeGreaterThan(0);
  return [s.output, ...files].join("\n");
}

function expectNoSecrets(text: string): void {
  for (const secret of ALL_SECRETS) expect(text.includes(secret), `a secret leaked: ${secret.slice(0, 12)}…`).toBe(false);
}

describe("secrets from Vault", () => {
  const vault = new FakeVault(ROOT_TOKEN);
  const modelKeys: string[] = [];
  const model = modelServer(modelKeys);
  const vaultAddr = `http://${VAULT_IP}:${VAULT_PORT}`;
  const modelUrl = `http://${VAULT_IP}:${MODEL_PORT}/v1`;
  let up: TestStack, wrong: TestStack, down: TestStack, none: TestStack;
  const extra: TestStack[] = [];

  beforeAll(async () => {
    vault.secrets.set("secret/data/aios", { ...FROM_VAULT, unrelated: "ignored" });
    await Promise.all([
      vault.listen(VAULT_IP, VAULT_PORT),
      new Promise<void>((r) => model.listen(MODEL_PORT, VAULT_IP, () => r())),
    ]);
    const common = { ...FROM_ENV, AIOS_MODEL_URL: modelUrl, AIOS_MODEL: "fake" };
    [up, wrong, down, none] = await Promise.all([
      TestStack.start({
        ip: "127.0.41.1",
        cellId: "vault-up",
        env: { ...common, AIOS_VAULT_ADDR: vaultAddr, VAULT_TOKEN: ROOT_TOKEN },
      }),
      TestStack.start({
        ip: "127.0.41.2",
        cellId: "vault-wrong-token",
        env: { ...common, AIOS_VAULT_ADDR: vaultAddr, VAULT_TOKEN: WRONG_TOKEN },
      }),
      TestStack.start({
        ip: "127.0.41.3",
        cellId: "vault-down",
        env: { ...common, AIOS_VAULT_ADDR: `http://${DOWN_IP}:${VAULT_PORT}`, VAULT_TOKEN: ROOT_TOKEN },
      }),
      TestStack.start({ ip: "127.0.41.4", cellId: "vault-none", env: common }),
    ]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([up, wrong, down, none, ...extra].map((s) => s?.stop()));
    await Promise.all([vault.close(), new Promise((r) => model.close(() => r(undefined)))]);
  });

  it("with Vault up, its values win: its API token works, the environment's does not, and /vault-status says available", async () => {
    expect((await messages(up, FROM_VAULT.AIOS_API_TOKEN)).status).toBe(200);
    expect((await messages(up, FROM_ENV.AIOS_API_TOKEN)).status).toBe(401);
    const { body, raw } = await vaultStatus(up);
    expect(body).toMatchObject({
      status: "available",
      vault: "available",
      address_configured: true,
      keys_from_vault: ["AIOS_CLUSTER_SECRET", "AIOS_API_TOKEN", "AIOS_MODEL_API_KEY"],
    });
    expect(body.problem).toBeUndefined();
    expectNoSecrets(raw);
    // The launcher asked sys/health without the token, then the KV v2 path with it.
    const asked = vault.seen.filter((s) => s.token === ROOT_TOKEN || s.url === "/v1/sys/health");
    expect(asked.some((s) => s.url === "/v1/sys/health" && s.token === undefined)).toBe(true);
    expect(asked.some((s) => s.url === "/v1/secret/data/aios" && s.token === ROOT_TOKEN)).toBe(true);
    // No generated token file: the token came from Vault.
    expect(readdirSync(path.join(up.dir, "data"))).not.toContain("api-token");
  });

  it("the model key from Vault is what the model is called with", async () => {
    modelKeys.length = 0;
    const res = await fetch(up.url("cell", "/code-assist"), {
      method: "POST",
      headers: { authorization: `Bearer ${FROM_VAULT.AIOS_API_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ code: "function f() { return 1; }\n", action: "review" }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { layer: string }).layer).toBe("model+builtin");
    expect(modelKeys).toEqual([`Bearer ${FROM_VAULT.AIOS_MODEL_API_KEY}`]);
  });

  it("the cluster secret from Vault admits a cell that holds the same secret", async () => {
    const peer = await TestStack.start({
      ip: "127.0.41.5",
      cellId: "vault-peer",
      env: {
        AIOS_CLUSTER_SECRET: FROM_VAULT.AIOS_CLUSTER_SECRET,
        AIOS_NETWORK_PEERS: "127.0.41.1",
        AIOS_API_TOKEN: "peer-token",
      },
    });
    extra.push(peer);
    type Peers = { peers: { cell_id: string; status: string }[] };
    await until(async () => {
      const [a, b] = await Promise.all([up.json<Peers>("discovery", "/peers"), peer.json<Peers>("discovery", "/peers")]);
      return (
        a.peers.some((p) => p.cell_id === "vault-peer" && p.status === "alive") &&
        b.peers.some((p) => p.cell_id === "vault-up" && p.status === "alive")
      );
    }, 20_000);
  });

  it("with a wrong VAULT_TOKEN the stack starts with the environment's values and says unavailable, naming the problem", async () => {
    expect((await messages(wrong, FROM_ENV.AIOS_API_TOKEN)).status).toBe(200);
    expect((await messages(wrong, FROM_VAULT.AIOS_API_TOKEN)).status).toBe(401);
    const { body, raw } = await vaultStatus(wrong);
    expect(body).toMatchObject({ status: "unavailable", address_configured: true, keys_from_vault: [] });
    expect(body.problem).toMatch(/permission denied.*403/);
    expectNoSecrets(raw);
    const log = everythingLogged(wrong);
    expect(log).toMatch(/Vault is unavailable; using secrets from the environment/);
    expect(log).toMatch(/permission denied/);
    expect(vault.seen.some((s) => s.token === WRONG_TOKEN && s.url === "/v1/secret/data/aios")).toBe(true);
    // The environment's model key is used.
    modelKeys.length = 0;
    const res = await fetch(wrong.url("cell", "/code-assist"), {
      method: "POST",
      headers: { authorization: `Bearer ${FROM_ENV.AIOS_API_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ code: "let x = 1;\n" }),
    });
    expect(res.status).toBe(200);
    expect(modelKeys).toEqual([`Bearer ${FROM_ENV.AIOS_MODEL_API_KEY}`]);
  });

  it("with Vault down the stack starts with the environment's values and says unavailable", async () => {
    expect((await messages(down, FROM_ENV.AIOS_API_TOKEN)).status).toBe(200);
    const { body } = await vaultStatus(down);
    expect(body).toMatchObject({ status: "unavailable", address_configured: true, keys_from_vault: [] });
    expect(body.problem).toMatch(/cannot reach Vault for sys\/health: ECONNREFUSED/);
    expect(everythingLogged(down)).toMatch(/"level":"warn".*Vault is unavailable.*ECONNREFUSED/);
  });

  it("without AIOS_VAULT_ADDR it says not_configured and never calls Vault", async () => {
    const { body } = await vaultStatus(none);
    expect(body).toMatchObject({ status: "not_configured", address_configured: false, keys_from_vault: [] });
    expect((await messages(none, FROM_ENV.AIOS_API_TOKEN)).status).toBe(200);
  });

  it("a bad AIOS_VAULT_PATH stops start-up with one line naming it", async () => {
    const s = await TestStack.start({
      ip: "127.0.41.8",
      waitReady: false,
      env: { AIOS_VAULT_ADDR: vaultAddr, VAULT_TOKEN: ROOT_TOKEN, AIOS_VAULT_PATH: "/secret/data/../aios" },
    });
    expect(await s.exit()).toBe(2);
    expect(s.output).toMatch(/^aios: configuration error: AIOS_VAULT_PATH: .*got "\/secret\/data\/\.\.\/aios"$/m);
    expectNoSecrets(s.output);
  });

  it("no stack ever logged a secret or the Vault token", () => {
    for (const s of [up, wrong, down, none, ...extra]) expectNoSecrets(everythingLogged(s));
    // …while the logs do say which keys came from Vault.
    expect(everythingLogged(up)).toMatch(
      /"msg":"read secrets from Vault".*"keys":\["AIOS_CLUSTER_SECRET","AIOS_API_TOKEN","AIOS_MODEL_API_KEY"\]/,
    );
  });
});

describe("readVault against Vault's documented answers", () => {
  const vault = new FakeVault(ROOT_TOKEN);
  const addr = `http://${VAULT_IP}:${VAULT_PORT + 1}`;
  beforeAll(async () => {
    vault.secrets.set("secret/data/aios", FROM_VAULT);
    vault.secrets.set("secret/data/aliases", {
      api_token: "alias-token",
      cluster_secret: "alias-secret",
      AIOS_MODEL_API_KEY: 42,
    });
    vault.secrets.set("secret/data/blank", { AIOS_API_TOKEN: "  " });
    await vault.listen(VAULT_IP, VAULT_PORT + 1);
  });
  afterAll(() => vault.close());

  it("treats active, standby and secondaries as usable; not initialised and sealed as unavailable", async () => {
    for (const health of ["active", "standby", "dr_secondary", "perf_standby"] as const) {
      vault.health = health;
      const r = await readVault({ addr, token: ROOT_TOKEN, path: "secret/data/aios" });
      expect(r.status, health).toBe("available");
      expect(r.secrets).toEqual(FROM_VAULT);
    }
    vault.health = "uninitialised";
    expect(await readVault({ addr, token: ROOT_TOKEN, path: "secret/data/aios" })).toMatchObject({
      status: "unavailable",
      secrets: {},
      problem: "Vault is not initialised (sys/health answered 501)",
    });
    vault.health = "sealed";
    expect((await readVault({ addr, token: ROOT_TOKEN, path: "secret/data/aios" })).problem).toBe(
      "Vault is sealed (sys/health answered 503)",
    );
    vault.health = "active";
  });

  it("403, 404, timeouts and answers that are not KV v2 are problems that name themselves, never the token", async () => {
    const wrongToken = await readVault({ addr, token: WRONG_TOKEN, path: "secret/data/aios" });
    expect(wrongToken.status).toBe("unavailable");
    expect(wrongToken.problem).toMatch(/^permission denied reading secret\/data\/aios \(403: permission denied\)/);
    expect(JSON.stringify(wrongToken)).not.toContain(WRONG_TOKEN);
    const missing = await readVault({ addr, token: ROOT_TOKEN, path: "secret/data/nope" });
    expect(missing.problem).toMatch(/^no secret at secret\/data\/nope \(404\); write one with: vault kv put -mount=secret nope/);
    vault.health = "hang";
    const started = Date.now();
    const slow = await readVault({ addr, token: ROOT_TOKEN, path: "secret/data/aios", timeoutMs: 300 });
    expect(slow.problem).toBe("sys/health did not answer within 0.3 s");
    expect(Date.now() - started).toBeLessThan(2000);
    vault.health = "active";
    const notKv2 = await readVault({
      addr,
      token: ROOT_TOKEN,
      path: "secret/data/aios",
      fetch: async (input) =>
        String(input).endsWith("/sys/health")
          ? new Response("{}", { status: 200 })
          : Response.json({ data: { AIOS_API_TOKEN: "kv1-style" } }),
    });
    expect(notKv2.problem).toMatch(/is not a KV v2 secret/);
    expect(await readVault({ path: "secret/data/aios" })).toEqual({ status: "not_configured", secrets: {}, ignored: [] });
  });

  it("accepts lower-case aliases and ignores values that are not non-empty strings", async () => {
    const r = await readVault({ addr, token: ROOT_TOKEN, path: "secret/data/aliases" });
    expect(r.status).toBe("available");
    expect(r.secrets).toEqual({ AIOS_API_TOKEN: "alias-token", AIOS_CLUSTER_SECRET: "alias-secret" });
    expect(r.ignored).toEqual(["AIOS_MODEL_API_KEY (not a string)"]);
    const blank = await readVault({ addr, token: ROOT_TOKEN, path: "secret/data/blank" });
    expect(blank).toMatchObject({ status: "available", secrets: {}, ignored: ["AIOS_API_TOKEN (empty)"] });
  });
});
