/**
 * Reads the wrangler.toml files (the single description of each worker, also
 * used by `wrangler dev` and `wrangler deploy`; workerd-config.ts turns them
 * into the runtime's configuration), and bundles each worker's TypeScript with
 * esbuild.
 */
import { build } from "esbuild";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse } from "smol-toml";

export const WORKER_CONFIGS = {
  cell: "wrangler.toml",
  discovery: "workers/discovery/wrangler.toml",
  bridge: "workers/bridge/wrangler.toml",
  metrics: "workers/metrics/wrangler.toml",
} as const;
export type ServiceName = keyof typeof WORKER_CONFIGS;
/** The relay (docs/relay.md) is not part of a cell stack: `npm run relay` runs it alone. */
export const RELAY_CONFIG = "workers/relay/wrangler.toml";

interface WranglerConfig {
  name: string;
  main: string;
  compatibility_date: string;
  compatibility_flags?: string[];
  vars?: Record<string, string>;
  durable_objects?: { bindings?: { name: string; class_name: string; script_name?: string }[] };
  migrations?: { tag: string; new_sqlite_classes?: string[]; new_classes?: string[] }[];
  services?: { binding: string; service: string; entrypoint?: string }[];
}

export interface WorkerSpec {
  service: ServiceName | "relay";
  configPath: string;
  config: WranglerConfig;
  entry: string;
}

export function readWorkerSpecs(root: string): WorkerSpec[] {
  return (Object.entries(WORKER_CONFIGS) as [ServiceName, string][]).map(([service, rel]) => readSpec(root, service, rel));
}

export function readRelaySpec(root: string): WorkerSpec {
  return readSpec(root, "relay", RELAY_CONFIG);
}

function readSpec(root: string, service: WorkerSpec["service"], rel: string): WorkerSpec {
  const configPath = path.join(root, rel);
  const config = parse(readFileSync(configPath, "utf8")) as unknown as WranglerConfig;
  return { service, configPath, config, entry: path.resolve(path.dirname(configPath), config.main) };
}

/**
 * Bundles every worker into `outDir`; returns the script path per service. A bundle whose inputs
 * (every source file esbuild read for it, by size and modification time) are unchanged since it was
 * built is reused, so a start after the first skips the build; an input modified after the build
 * began leaves the bundle unstamped, to be built again. Bundles are written to a temporary
 * name and renamed, so stacks starting together from one checkout never read a half-written one.
 */
export async function bundleWorkers(specs: WorkerSpec[], outDir: string): Promise<Map<WorkerSpec["service"], string>> {
  mkdirSync(outDir, { recursive: true });
  const out = new Map<WorkerSpec["service"], string>();
  await Promise.all(
    specs.map(async (s) => {
      const outfile = path.join(outDir, `${s.service}.mjs`);
      const manifest = `${outfile}.inputs.json`;
      if (!upToDate(outfile, manifest)) {
        const started = Date.now();
        const result = await build({
          entryPoints: [s.entry],
          outfile,
          bundle: true,
          format: "esm",
          platform: "neutral",
          target: "es2022",
          minify: true,
          keepNames: true,
          mainFields: ["module", "main"],
          conditions: ["workerd", "worker", "browser", "import"],
          external: ["cloudflare:*"],
          logLevel: "error",
          write: false,
          metafile: true,
        });
        const inputs = Object.keys(result.metafile.inputs).map((f) => path.resolve(f));
        writeAtomically(outfile, result.outputFiles[0]!.contents);
        // An input saved while esbuild ran may have been read before the save: its stamp would be new
        // but the bundle old. Such a bundle gets no manifest, so the next start builds again.
        const stamps = inputs.map((f) => [f, ...stamp(f)] as const);
        if (stamps.every(([, , mtime]) => mtime < started)) writeAtomically(manifest, JSON.stringify(stamps));
        else rmSync(manifest, { force: true });
      }
      out.set(s.service, outfile);
    }),
  );
  return out;
}

/** Size and modification time of a file; [-1, -1] when it is gone. */
export function stamp(file: string): [number, number] {
  try {
    const st = statSync(file);
    return [st.size, st.mtimeMs];
  } catch {
    return [-1, -1];
  }
}

export function upToDate(outfile: string, manifest: string): boolean {
  try {
    if (!existsSync(outfile)) return false;
    const inputs = JSON.parse(readFileSync(manifest, "utf8")) as [string, number, number][];
    return (
      inputs.length > 0 &&
      inputs.every(([f, size, mtime]) => {
        const [s, m] = stamp(f);
        return s === size && m === mtime;
      })
    );
  } catch {
    return false;
  }
}

export function writeAtomically(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}
