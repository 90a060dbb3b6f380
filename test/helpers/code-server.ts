/**
 * A real VS Code workbench for tests: code-server 4.100.3 (VS Code 1.100.3),
 * installed apart from the project by scripts/install-code-server.sh, with
 * its HOME, settings and extensions in a scratch folder, stopped by its PID.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, statSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT, until } from "../../harness/stack";

export const CODE_SERVER_VERSION = "4.100.3";
/** The same folder scripts/install-code-server.sh installs into. */
export const CODE_SERVER_DIR =
  process.env["AIOS_CODE_SERVER_DIR"] ??
  path.join(process.env["XDG_CACHE_HOME"] ?? path.join(os.homedir(), ".cache"), "aios", `code-server-${CODE_SERVER_VERSION}`);
export const CODE_SERVER_ENTRY = path.join(CODE_SERVER_DIR, "node_modules", "code-server", "out", "node", "entry.js");
export const HAVE_CODE_SERVER = existsSync(path.join(CODE_SERVER_DIR, ".complete")) && existsSync(CODE_SERVER_ENTRY);

export const VSIX = path.join(ROOT, "vscode", "aios-cell-stack.vsix");

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * The packaged extension, rebuilt when its sources are newer (offline: vscode/'s
 * dependencies must be installed, which `npm run vscode:package` does). Undefined,
 * with the reason, when it cannot be had.
 */
export function packagedExtension(): { vsix: string } | { missing: string } {
  const dir = path.join(ROOT, "vscode");
  const sourcesAt = Math.max(newest(path.join(dir, "src")), statSync(path.join(dir, "package.json")).mtimeMs);
  if (existsSync(VSIX) && statSync(VSIX).mtimeMs >= sourcesAt) return { vsix: VSIX };
  if (!existsSync(path.join(dir, "node_modules", ".bin", "vsce"))) {
    return {
      missing: `${VSIX} is missing or older than vscode/src, and vscode/'s dependencies are not installed: run npm run vscode:package`,
    };
  }
  const r = spawnSync("npm", ["run", "--prefix", "vscode", "package"], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`packaging the extension failed:\n${r.stdout}\n${r.stderr}`);
  return { vsix: VSIX };
}

export interface Workbench {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * Installs `vsix` into a fresh profile under `scratch` and starts code-server
 * on `host:port` with `folder` open. `settings` are the user's settings.
 */
export async function startWorkbench(opts: {
  scratch: string;
  host: string;
  port: number;
  folder: string;
  vsix: string;
  settings: Record<string, unknown>;
}): Promise<Workbench> {
  const home = path.join(opts.scratch, "home");
  const userData = path.join(opts.scratch, "user-data");
  const extensions = path.join(opts.scratch, "extensions");
  const config = path.join(opts.scratch, "config.yaml");
  for (const d of [home, path.join(userData, "User"), extensions]) mkdirSync(d, { recursive: true });
  writeFileSync(config, `bind-addr: ${opts.host}:${opts.port}\nauth: none\ncert: false\n`);
  writeFileSync(path.join(userData, "User", "settings.json"), JSON.stringify(opts.settings, null, 2));
  const env = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, ".config"),
    XDG_DATA_HOME: path.join(home, ".local", "share"),
    XDG_CACHE_HOME: path.join(home, ".cache"),
  };
  const common = ["--config", config, "--user-data-dir", userData, "--extensions-dir", extensions];
  const install = spawnSync(process.execPath, [CODE_SERVER_ENTRY, ...common, "--install-extension", opts.vsix], {
    env,
    encoding: "utf8",
    timeout: 120_000,
  });
  if (install.status !== 0 || !/successfully installed/i.test(install.stdout + install.stderr)) {
    throw new Error(`code-server --install-extension failed (${install.status}):\n${install.stdout}\n${install.stderr}`);
  }
  const child = spawn(
    process.execPath,
    [
      CODE_SERVER_ENTRY,
      ...common,
      "--bind-addr",
      `${opts.host}:${opts.port}`,
      "--auth",
      "none",
      "--disable-telemetry",
      "--disable-update-check",
      "--disable-workspace-trust",
      "--disable-getting-started-override",
      opts.folder,
    ],
    { env, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  let exited = false;
  const done = new Promise<void>((resolve) =>
    child.on("exit", () => {
      exited = true;
      resolve();
    }),
  );
  const url = `http://${opts.host}:${opts.port}`;
  const stop = async () => {
    if (exited) return;
    process.kill(-child.pid!, "SIGTERM");
    const timer = setTimeout(() => !exited && process.kill(-child.pid!, "SIGKILL"), 5000);
    await done;
    clearTimeout(timer);
  };
  try {
    await until(
      async () => {
        if (exited) throw new Error(`code-server exited:\n${out}`);
        return (await fetch(`${url}/healthz`)).ok;
      },
      60_000,
      250,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, child, output: () => out, stop };
}
