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
import { createServer, type Server } from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeVault } from "../helpers/fake-vault";
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
