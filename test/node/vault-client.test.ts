/** The launcher's Vault client (readVault) against a server that answers as Vault documents. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readVault } from "../../launcher/vault";
import { FakeVault } from "../helpers/fake-vault";

const ROOT_TOKEN = "hvs.nodeRootToken7c3b9f21d0a4";
const WRONG_TOKEN = "hvs.nodeWrongToken55e1aa90c2";
const FROM_VAULT = {
  AIOS_API_TOKEN: "vault-api-token-4e8d2c61b7",
  AIOS_CLUSTER_SECRET: "vault-cluster-secret-0f93ab17",
  AIOS_MODEL_API_KEY: "sk-vault-model-key-6a2e58d4c9",
};

describe("readVault against Vault's documented answers", () => {
  const vault = new FakeVault(ROOT_TOKEN);
  let addr = "";
  beforeAll(async () => {
    vault.secrets.set("secret/data/aios", FROM_VAULT);
    vault.secrets.set("secret/data/aliases", {
      api_token: "alias-token",
      cluster_secret: "alias-secret",
      AIOS_MODEL_API_KEY: 42,
    });
    vault.secrets.set("secret/data/blank", { AIOS_API_TOKEN: "  " });
    addr = `http://127.0.0.1:${await vault.listen("127.0.0.1", 0)}`;
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
