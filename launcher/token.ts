/** The API token: from the configuration, or generated once and kept under the data folder (mode 0600). */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface TokenSource {
  token: string;
  /** Where a generated token is kept; undefined when it came from the configuration. */
  file?: string;
  created: boolean;
}

export function ensureApiToken(configured: string | undefined, dataDir: string): TokenSource {
  if (configured) return { token: configured, created: false };
  const file = path.join(dataDir, "api-token");
  if (existsSync(file)) {
    const token = readFileSync(file, "utf8").trim();
    if (token) return { token, file, created: false };
  }
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(32).toString("base64url");
  writeFileSync(file, token + "\n", { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token, file, created: true };
}
