/**
 * Secrets from HashiCorp Vault (KV v2), read once at start-up by the launcher.
 *
 * With AIOS_VAULT_ADDR and VAULT_TOKEN set, the launcher asks Vault's
 * `sys/health`, then reads the secret at AIOS_VAULT_PATH (default
 * `secret/data/aios`). Values found there win over the environment; any secret
 * Vault does not hold (or all of them, when Vault cannot be used) comes from
 * the environment as before. The outcome reaches the workers as non-secret
 * vars, so the bridge's `/vault-status` can report it. Nothing here ever logs
 * or returns a secret value or the Vault token: only names and problems.
 */
import type { StackConfig } from "../lib/config";
import { publicAddress, type Settings } from "../lib/settings";
import type { Logger } from "../lib/log";

export type VaultStatus = "available" | "unavailable" | "not_configured";

/** The secrets Vault may hold, by their variable names. */
export const VAULT_KEYS = ["AIOS_CLUSTER_SECRET", "AIOS_API_TOKEN", "AIOS_MODEL_API_KEY"] as const;
export type VaultKey = (typeof VAULT_KEYS)[number];

const FIELD = {
  AIOS_CLUSTER_SECRET: "clusterSecret",
  AIOS_API_TOKEN: "apiToken",
  AIOS_MODEL_API_KEY: "modelApiKey",
} as const satisfies Record<VaultKey, keyof StackConfig>;

/** Also accepted in the secret: the lower-case name without the prefix (`api_token`, …). */
const ALIAS: Record<VaultKey, string> = {
  AIOS_CLUSTER_SECRET: "cluster_secret",
  AIOS_API_TOKEN: "api_token",
  AIOS_MODEL_API_KEY: "model_api_key",
};

export const VAULT_TIMEOUT_MS = 3000;
/** sys/health codes of a node that serves reads: active, standby, DR secondary, performance standby. */
const USABLE_HEALTH = new Set([200, 429, 472, 473]);

export interface VaultResult {
  status: VaultStatus;
  /** The secrets Vault held, by variable name (values: never log them). */
  secrets: Partial<Record<VaultKey, string>>;
  /** Why Vault could not be used; never contains a secret. */
  problem?: string;
  /** Fields of the secret that were present but not usable (names only), with why. */
  ignored: string[];
}

export interface VaultOptions {
  addr?: string;
  token?: string;
  path: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

class VaultProblem extends Error {}

/** Removes the token from any text that might echo it (it never should), and keeps it short. */
function scrub(text: string, token: string): string {
  const cut = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return token ? cut.split(token).join("[redacted]") : cut;
}

/** Vault's error bodies are `{"errors": ["…"]}`. */
async function vaultErrors(res: Response, token: string): Promise<string> {
  try {
    const body = (await res.json()) as { errors?: unknown };
    if (Array.isArray(body.errors) && body.errors.length > 0) {
      return `: ${scrub(body.errors.filter((e) => typeof e === "string").join("; "), token)}`;
    }
  } catch {
    // not JSON: the status says enough
  }
  return "";
}

async function get(opts: VaultOptions, what: string, url: string, headers: Record<string, string>): Promise<Response> {
  const timeoutMs = opts.timeoutMs ?? VAULT_TIMEOUT_MS;
  try {
    return await (opts.fetch ?? fetch)(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    if (err.name === "TimeoutError" || err.name === "AbortError") {
      throw new VaultProblem(`${what} did not answer within ${timeoutMs / 1000} s`);
    }
    const cause = err.cause?.code ?? err.cause?.message ?? err.message;
    throw new VaultProblem(`cannot reach Vault for ${what}: ${scrub(String(cause), opts.token ?? "")}`);
  }
}

async function checkHealth(opts: VaultOptions, addr: string): Promise<void> {
  const res = await get(opts, "sys/health", `${addr}/v1/sys/health`, { accept: "application/json" });
  await res.body?.cancel().catch(() => undefined);
  if (USABLE_HEALTH.has(res.status)) return;
  const why: Record<number, string> = {
    501: "Vault is not initialised",
    503: "Vault is sealed",
    530: "this Vault node was removed from its cluster",
  };
  throw new VaultProblem(`${why[res.status] ?? "Vault is not healthy"} (sys/health answered ${res.status})`);
}

async function readSecret(opts: VaultOptions, addr: string, token: string): Promise<Record<string, unknown>> {
  const res = await get(opts, opts.path, `${addr}/v1/${opts.path}`, {
    "x-vault-token": token,
    "x-vault-request": "true",
    accept: "application/json",
  });
  if (res.status === 403) {
    throw new VaultProblem(
      `permission denied reading ${opts.path} (403${await vaultErrors(res, token)}): VAULT_TOKEN is invalid, expired or lacks read on this path`,
    );
  }
  if (res.status === 404) {
    await res.body?.cancel().catch(() => undefined);
    throw new VaultProblem(
      `no secret at ${opts.path} (404); write one with: vault kv put ${kvCliPath(opts.path)} AIOS_API_TOKEN=…`,
    );
  }
  if (res.status !== 200) {
    throw new VaultProblem(`reading ${opts.path} answered ${res.status}${await vaultErrors(res, token)}`);
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new VaultProblem(`reading ${opts.path} answered 200 with a body that is not JSON`);
  }
  const data = (body as { data?: { data?: unknown } } | null)?.data?.data;
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new VaultProblem(`${opts.path} is not a KV v2 secret (the answer has no data.data object); is the mount KV version 2?`);
  }
  return data as Record<string, unknown>;
}

/** `secret/data/aios` → `-mount=secret aios`, for the hint in a 404. */
function kvCliPath(apiPath: string): string {
  const i = apiPath.indexOf("/data/");
  return `-mount=${apiPath.slice(0, i)} ${apiPath.slice(i + "/data/".length)}`;
}

/** Asks Vault for the secrets; never throws: problems become `unavailable` with a reason. */
export async function readVault(opts: VaultOptions): Promise<VaultResult> {
  if (!opts.addr || !opts.token) return { status: "not_configured", secrets: {}, ignored: [] };
  const addr = opts.addr.replace(/\/+$/, "");
  try {
    await checkHealth(opts, addr);
    const data = await readSecret(opts, addr, opts.token);
    const secrets: Partial<Record<VaultKey, string>> = {};
    const ignored: string[] = [];
    for (const key of VAULT_KEYS) {
      for (const name of [key, ALIAS[key]]) {
        if (!(name in data) || secrets[key] !== undefined) continue;
        const value = data[name];
        if (typeof value === "string" && value.trim() !== "") secrets[key] = value.trim();
        else ignored.push(`${name} (${typeof value === "string" ? "empty" : "not a string"})`);
      }
    }
    return { status: "available", secrets, ignored };
  } catch (e) {
    if (e instanceof VaultProblem) return { status: "unavailable", secrets: {}, problem: e.message, ignored: [] };
    return { status: "unavailable", secrets: {}, problem: `unexpected error: ${scrub(String(e), opts.token)}`, ignored: [] };
  }
}

/** The configuration with Vault's secrets in place (Vault wins), and which environment values they replaced. */
export function applyVault(cfg: StackConfig, result: VaultResult): { cfg: StackConfig; overridden: VaultKey[] } {
  const next: StackConfig = { ...cfg };
  const overridden: VaultKey[] = [];
  for (const key of VAULT_KEYS) {
    const value = result.secrets[key];
    if (value === undefined) continue;
    const field = FIELD[key];
    if (next[field] !== undefined && next[field] !== value) overridden.push(key);
    next[field] = value;
    next.settings = { ...next.settings, [key]: value };
  }
  return { cfg: next, overridden };
}

/** The names of the secrets that came from Vault. */
export function vaultKeys(result: VaultResult): VaultKey[] {
  return VAULT_KEYS.filter((k) => result.secrets[k] !== undefined);
}

/** Non-secret vars for the workers: the bridge's /vault-status reports them. */
export function vaultVars(result: VaultResult): Pick<Settings, "AIOS_VAULT_STATUS" | "AIOS_VAULT_KEYS" | "AIOS_VAULT_PROBLEM"> {
  return { AIOS_VAULT_STATUS: result.status, AIOS_VAULT_KEYS: vaultKeys(result).join(","), AIOS_VAULT_PROBLEM: result.problem };
}

/**
 * Start-up step: reads Vault when configured, logs what happened (names and
 * problems only), and returns the configuration to run with.
 */
export async function loadVaultSecrets(
  cfg: StackConfig,
  log: Logger,
  opts: Partial<VaultOptions> = {},
): Promise<{ cfg: StackConfig; vault: VaultResult }> {
  const vault = await readVault({ addr: cfg.vaultAddr, token: cfg.vaultToken, path: cfg.vaultPath, ...opts });
  if (vault.status === "not_configured") return { cfg, vault };
  const where = { vault_addr: publicAddress(cfg.vaultAddr!), vault_path: cfg.vaultPath };
  if (vault.status === "unavailable") {
    log.warn("Vault is unavailable; using secrets from the environment", { ...where, problem: vault.problem });
    return { cfg, vault };
  }
  const applied = applyVault(cfg, vault);
  const fromEnvironment = VAULT_KEYS.filter((k) => vault.secrets[k] === undefined && cfg[FIELD[k]] !== undefined);
  log.info("read secrets from Vault", {
    ...where,
    keys: vaultKeys(vault),
    replaced_environment_values_of: applied.overridden,
    from_environment: fromEnvironment,
  });
  if (vault.ignored.length > 0) log.warn("ignored fields of the Vault secret", { ...where, fields: vault.ignored });
  if (vaultKeys(vault).length === 0) {
    log.warn(`the Vault secret holds none of ${VAULT_KEYS.join(", ")}; using the environment`, where);
  }
  return { cfg: applied.cfg, vault };
}
