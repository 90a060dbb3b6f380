/**
 * `aios import <file.jsonl>` and `aios export`: move a knowledge graph between
 * the reference memory server's JSONL file and a running cell, over the
 * cell's /memory/import and /memory/export endpoints.
 *
 *   node bin/aios.mjs import memory.jsonl [--namespace X] [--url URL] [--token T] [--json]
 *   node bin/aios.mjs export [--namespace X] [--out file.jsonl] [--url URL] [--token T]
 *
 * The URL defaults to this machine's cell (AIOS_HOST or 127.0.0.1, port
 * AIOS_CELL_PORT); the token to --token, else what the stack itself would use:
 * Vault's AIOS_API_TOKEN when Vault is configured and answers, else
 * AIOS_API_TOKEN, else the file $AIOS_DATA_DIR/api-token. `.env` is read as
 * `npm start` reads it.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, type StackConfig } from "../lib/config";
import { entityLine, parseMemoryJsonl, relationLine, type ImportResult as ImportAnswer } from "../lib/memory-jsonl";
import { loadConfig } from "./start";
import { readVault, applyVault } from "./vault";

/** Bytes of JSONL per request (the cell takes up to 16 MiB). */
export const CHUNK_BYTES = 8 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 5 * 60_000;

class CliError extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}

interface Target {
  url: string;
  token: string;
}

const USAGE = {
  import: "usage: aios import <file.jsonl> [--namespace X] [--url http://127.0.0.1:8000] [--token T] [--json]",
  export: "usage: aios export [--namespace X] [--out file.jsonl] [--url http://127.0.0.1:8000] [--token T]",
};

function parse(command: "import" | "export", args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        namespace: { type: "string", short: "n" },
        url: { type: "string" },
        token: { type: "string" },
        out: { type: "string", short: "o" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    throw new CliError(`${(e as Error).message}; ${USAGE[command]}`, 2);
  }
}

function loadCliConfig(root: string): StackConfig {
  try {
    return loadConfig(root);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(`configuration error: ${e.message}`, 2);
    throw e;
  }
}

function defaultUrl(cfg: StackConfig): string {
  const host = cfg.host === "0.0.0.0" || cfg.host === "::" ? "127.0.0.1" : cfg.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${cfg.ports.cell}`;
}

/** The token the stack uses: Vault (when it answers), else AIOS_API_TOKEN, else the generated file. */
async function defaultToken(cfg: StackConfig, warn: (msg: string) => void): Promise<string> {
  let effective = cfg;
  if (cfg.vaultAddr && cfg.vaultToken) {
    const vault = await readVault({ addr: cfg.vaultAddr, token: cfg.vaultToken, path: cfg.vaultPath });
    if (vault.status === "available") effective = applyVault(cfg, vault).cfg;
    else warn(`Vault is unavailable (${vault.problem}); using the environment`);
  }
  if (effective.apiToken) return effective.apiToken;
  const file = path.resolve(cfg.dataDir, "api-token");
  if (existsSync(file)) {
    const token = readFileSync(file, "utf8").trim();
    if (token) return token;
  }
  throw new CliError(`no API token: pass --token, set AIOS_API_TOKEN, or start the stack once so it writes ${file}`, 2);
}

async function target(root: string, values: { url?: string; token?: string }, warn: (msg: string) => void): Promise<Target> {
  let cfg: StackConfig | undefined;
  const config = () => (cfg ??= loadCliConfig(root));
  let url = values.url ?? defaultUrl(config());
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
    url = url.replace(/\/+$/, "");
  } catch {
    throw new CliError(`--url: expected an http(s) URL of the cell, got "${url}"`, 2);
  }
  const token = values.token ?? (await defaultToken(config(), warn));
  return { url, token };
}

function namespaceQuery(namespace: string | undefined): string {
  return namespace === undefined ? "" : `?namespace=${encodeURIComponent(namespace)}`;
}

async function call(t: Target, p: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${t.token}`);
  let res: Response;
  try {
    res = await fetch(`${t.url}${p}`, { ...init, headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    if (err.name === "TimeoutError")
      throw new CliError(`the cell at ${t.url} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`);
    const cause = err.cause?.code ?? err.cause?.message ?? err.message;
    throw new CliError(`cannot reach the cell at ${t.url} (${cause}); is the stack running (npm start)?`);
  }
  if (res.ok) return res;
  let detail = "";
  try {
    detail = ((await res.json()) as { error?: string }).error ?? "";
  } catch {
    // not JSON
  }
  const hint = res.status === 401 ? " (check --token, AIOS_API_TOKEN or the data folder's api-token)" : "";
  throw new CliError(`the cell answered ${res.status}${detail ? `: ${detail}` : ""}${hint}`);
}

function decodeFile(file: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new CliError(`cannot read ${file}: ${err.code === "ENOENT" ? "no such file" : err.message}`);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new CliError(`${file} is not valid UTF-8`);
  }
}

/**
 * The file as request bodies of at most CHUNK_BYTES each. An entity too big
 * for one body continues on further lines of the same name (the cell merges
 * them); `continuations` counts those, which the cell reports as skipped.
 */
export function chunkLines(
  entities: { name: string; entityType: string; observations: string[] }[],
  relations: Parameters<typeof relationLine>[0][],
  chunkBytes = CHUNK_BYTES,
) {
  const bodies: string[] = [];
  let current: string[] = [];
  let size = 0;
  let continuations = 0;
  const add = (line: string) => {
    const n = Buffer.byteLength(line) + 1;
    if (current.length > 0 && size + n > chunkBytes) {
      bodies.push(current.join(""));
      current = [];
      size = 0;
    }
    current.push(line + "\n");
    size += n;
  };
  for (const e of entities) {
    const whole = entityLine(e);
    if (Buffer.byteLength(whole) < chunkBytes / 2) {
      add(whole);
      continue;
    }
    let part: string[] = [];
    let bytes = 0;
    let first = true;
    const flush = () => {
      add(entityLine({ ...e, observations: part }));
      if (!first) continuations++;
      first = false;
      part = [];
      bytes = 0;
    };
    for (const o of e.observations) {
      const n = Buffer.byteLength(JSON.stringify(o)) + 1;
      if (part.length > 0 && bytes + n > chunkBytes / 2) flush();
      part.push(o);
      bytes += n;
    }
    flush();
  }
  for (const r of relations) add(relationLine(r));
  if (current.length > 0) bodies.push(current.join(""));
  return { bodies, continuations };
}

async function runImport(root: string, args: string[]): Promise<void> {
  const { values, positionals } = parse("import", args);
  if (values.help) {
    console.log(USAGE.import);
    return;
  }
  if (positionals.length !== 1) throw new CliError(`expected one file to import; ${USAGE.import}`, 2);
  if (values.out !== undefined) throw new CliError(`--out is an export option; ${USAGE.import}`, 2);
  const file = positionals[0]!;
  // Check the whole file here first, so a bad line stops the import before anything is sent.
  const parsed = parseMemoryJsonl(decodeFile(file));
  if (!parsed.ok) throw new CliError(`${file}: line ${parsed.line}: ${parsed.error}; nothing was imported`);
  const t = await target(root, values, (m) => console.error(`aios import: warning: ${m}`));
  const { bodies, continuations } = chunkLines(parsed.entities, parsed.relations);
  const total: ImportAnswer = {
    namespace: values.namespace ?? "default",
    imported: { entities: 0, observations: 0, relations: 0 },
    skipped: { entities: -continuations, observations: 0, relations: 0 },
    lines: parsed.lines,
  };
  for (const [i, body] of bodies.entries()) {
    let answer: ImportAnswer;
    try {
      const res = await call(t, `/memory/import${namespaceQuery(values.namespace)}`, {
        method: "POST",
        headers: { "content-type": "application/x-ndjson" },
        body,
      });
      answer = (await res.json()) as ImportAnswer;
    } catch (e) {
      if (i > 0 && e instanceof CliError) {
        throw new CliError(
          `${e.message}; parts 1-${i} of ${bodies.length} were imported; importing again is safe (what is there is skipped)`,
        );
      }
      throw e;
    }
    total.namespace = answer.namespace;
    for (const k of ["entities", "observations", "relations"] as const) {
      total.imported[k] += answer.imported[k];
      total.skipped[k] += answer.skipped[k];
    }
  }
  if (values.json) {
    console.log(JSON.stringify(total));
    return;
  }
  const { imported: a, skipped: s } = total;
  console.log(
    `aios: imported ${a.entities} entities, ${a.observations} observations, ${a.relations} relations into namespace "${total.namespace}" ` +
      `(skipped as already there: ${s.entities} entities, ${s.observations} observations, ${s.relations} relations)`,
  );
}

async function runExport(root: string, args: string[]): Promise<void> {
  const { values, positionals } = parse("export", args);
  if (values.help) {
    console.log(USAGE.export);
    return;
  }
  if (positionals.length > 0) throw new CliError(`unexpected argument "${positionals[0]}"; use --out <file>; ${USAGE.export}`, 2);
  if (values.json) throw new CliError(`--json is an import option; ${USAGE.export}`, 2);
  const t = await target(root, values, (m) => console.error(`aios export: warning: ${m}`));
  const res = await call(t, `/memory/export${namespaceQuery(values.namespace)}`);
  const body = await res.text();
  const entities = res.headers.get("x-aios-entities") ?? "?";
  const relations = res.headers.get("x-aios-relations") ?? "?";
  const namespace = values.namespace ?? "default";
  if (values.out === undefined) {
    process.stdout.write(body);
    console.error(`aios: exported ${entities} entities and ${relations} relations from namespace "${namespace}"`);
    return;
  }
  const out = path.resolve(values.out);
  // Write beside the target, then rename: an interrupted export never leaves half a file.
  const temp = `${out}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, body);
    renameSync(temp, out);
  } catch (e) {
    rmSync(temp, { force: true });
    throw new CliError(`cannot write ${values.out}: ${(e as Error).message}`);
  }
  console.log(`aios: exported ${entities} entities and ${relations} relations from namespace "${namespace}" to ${values.out}`);
}

async function guarded(command: "import" | "export", run: () => Promise<void>): Promise<number> {
  try {
    await run();
    return 0;
  } catch (e) {
    if (e instanceof CliError) {
      console.error(`aios ${command}: ${e.message}`);
      return e.code;
    }
    console.error(`aios ${command}: ${(e as Error).message}`);
    return 1;
  }
}

export const importCommand = (root: string, args: string[]) => guarded("import", () => runImport(root, args));
export const exportCommand = (root: string, args: string[]) => guarded("export", () => runExport(root, args));
