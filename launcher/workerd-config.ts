/**
 * The runtime's configuration, written for workerd itself (its Cap'n Proto text format): each worker
 * with its modules, bindings, Durable Object namespaces and socket; one disk for the objects' SQLite
 * files; one outbound network. The launcher runs workerd with it directly (runtime.ts), so no
 * development server stays in memory beside the stack.
 *
 * Layout and identity of stored objects are what earlier versions (which ran workerd through
 * Miniflare) wrote: every namespace's files under `<storage>/<uniqueKey>/`, the unique key being
 * `<worker>-<class>`, from which workerd also derives the objects' ids. A `./data` folder written by
 * those versions therefore opens unchanged.
 *
 * Variables never appear in the file: each binding names an environment variable of the workerd
 * process (`fromEnvironment`), so the API token and the cluster secret are not written to disk.
 */
import path from "node:path";
import type { WorkerSpec } from "./workers";

export type ModuleType = "esModule" | "wasm" | "data" | "text";

export interface RuntimeWorker {
  /** Service name (the wrangler name), e.g. `aios-cell`. */
  name: string;
  modules: { name: string; type: ModuleType; path: string }[];
  compatibilityDate: string;
  compatibilityFlags: string[];
  /** Text bindings; their values travel in the environment. */
  vars: Record<string, string>;
  /** Durable Object bindings; a class of another worker names it in `scriptName`. */
  durableObjects: { binding: string; className: string; scriptName?: string }[];
  /** Classes this worker defines, with SQLite storage when `sql`. */
  classes: { className: string; sql: boolean }[];
  services: { binding: string; service: string; entrypoint?: string }[];
  socket?: { name: string; host: string; port: number };
}

/** What a runtime has besides its workers. */
export interface RuntimeExtras {
  /** V8's flags for every isolate of the process. */
  v8Flags?: string[];
  /** Folders served as services (a worker binds one by its name, like a worker). */
  disks?: { name: string; path: string; writable: boolean }[];
}

export interface RuntimeConfig {
  /** The text of the configuration file. */
  text: string;
  /** The environment the workerd process needs for the bindings' values. */
  env: Record<string, string>;
  /** Names of the sockets, reported on the control channel once each listens. */
  sockets: string[];
}

const STORAGE_SERVICE = "aios-storage";
const NETWORK_SERVICE = "aios-network";

/** A Cap'n Proto text string literal (C escapes; bytes outside printable ASCII as \xNN). */
export function capnpString(value: string): string {
  let out = '"';
  for (const byte of new TextEncoder().encode(value)) {
    if (byte === 0x22) out += '\\"';
    else if (byte === 0x5c) out += "\\\\";
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return `${out}"`;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const q = capnpString;

/** The environment variable that carries one binding's value of one worker. */
export function envName(worker: string, binding: string): string {
  return `AIOS_RT_${worker.replace(/[^A-Za-z0-9]/g, "_").toUpperCase()}__${binding}`;
}

/**
 * The configuration for `workers`, to be written in `configDir` (modules are embedded by paths
 * relative to it). `storage` is the folder of the objects' files, created by the caller.
 */
export function workerdConfig(
  workers: RuntimeWorker[],
  configDir: string,
  storage?: string,
  extras: RuntimeExtras = {},
): RuntimeConfig {
  const env: Record<string, string> = {};
  const consts: string[] = [];
  const services: string[] = [];
  const sockets: string[] = [];
  const socketNames: string[] = [];
  const owners = new Set([...workers.map((w) => w.name), ...(extras.disks ?? []).map((d) => d.name)]);

  workers.forEach((w, i) => {
    const constName = `worker${i}`;
    services.push(`(name = ${q(w.name)}, worker = .${constName})`);
    const bindings: string[] = [];
    for (const [name, value] of Object.entries(w.vars)) {
      if (!IDENT.test(name)) throw new Error(`${w.name}: variable ${JSON.stringify(name)} is not a valid binding name`);
      const variable = envName(w.name, name);
      env[variable] = value;
      bindings.push(`(name = ${q(name)}, fromEnvironment = ${q(variable)})`);
    }
    for (const s of w.services) {
      if (!owners.has(s.service)) throw new Error(`${w.name}: binding ${s.binding} names unknown service ${s.service}`);
      const entry = s.entrypoint ? `, entrypoint = ${q(s.entrypoint)}` : "";
      bindings.push(`(name = ${q(s.binding)}, service = (name = ${q(s.service)}${entry}))`);
    }
    for (const d of w.durableObjects) {
      const owner = d.scriptName ? `, serviceName = ${q(d.scriptName)}` : "";
      bindings.push(`(name = ${q(d.binding)}, durableObjectNamespace = (className = ${q(d.className)}${owner}))`);
    }
    const modules = w.modules.map(
      (m) => `(name = ${q(m.name)}, ${m.type} = embed ${q(path.relative(configDir, m.path).split(path.sep).join("/"))})`,
    );
    const namespaces = w.classes.map(
      (c) => `(className = ${q(c.className)}, uniqueKey = ${q(`${w.name}-${c.className}`)}, enableSql = ${c.sql})`,
    );
    const lines = [
      `  modules = [${modules.join(", ")}],`,
      `  compatibilityDate = ${q(w.compatibilityDate)},`,
      `  compatibilityFlags = [${w.compatibilityFlags.map(q).join(", ")}],`,
      `  bindings = [${bindings.join(", ")}],`,
      `  globalOutbound = ${q(NETWORK_SERVICE)},`,
    ];
    if (namespaces.length > 0) {
      if (!storage) throw new Error(`${w.name} has Durable Objects but no storage folder was given`);
      lines.push(`  durableObjectNamespaces = [${namespaces.join(", ")}],`);
      lines.push(`  durableObjectStorage = (localDisk = ${q(STORAGE_SERVICE)}),`);
    }
    consts.push(`const ${constName} :Workerd.Worker = (\n${lines.join("\n")}\n);`);
    if (w.socket) {
      const { name, host, port } = w.socket;
      const address = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
      sockets.push(`(name = ${q(name)}, address = ${q(address)}, http = (), service = ${q(w.name)})`);
      socketNames.push(name);
    }
  });

  if (storage) services.push(`(name = ${q(STORAGE_SERVICE)}, disk = (path = ${q(storage)}, writable = true))`);
  for (const d of extras.disks ?? []) {
    services.push(`(name = ${q(d.name)}, disk = (path = ${q(d.path)}, writable = ${d.writable}))`);
  }
  // Peers on the LAN and on loopback, relays on the internet (https with the usual CAs).
  services.push(
    `(name = ${q(NETWORK_SERVICE)}, network = (allow = ["public", "private", "local"], tlsOptions = (trustBrowserCas = true)))`,
  );

  const text = [
    `# Written by the AIOS launcher at each start; edits are overwritten.`,
    `using Workerd = import "/workerd/workerd.capnp";`,
    ``,
    `const config :Workerd.Config = (`,
    ...(extras.v8Flags?.length ? [`  v8Flags = [${extras.v8Flags.map(q).join(", ")}],`] : []),
    `  services = [\n    ${services.join(",\n    ")}\n  ],`,
    `  sockets = [${sockets.join(", ")}],`,
    `);`,
    ``,
    ...consts,
    ``,
  ].join("\n");
  return { text, env, sockets: socketNames };
}

/** One stack worker, from its wrangler.toml, its bundle, its variables and its socket. */
export function runtimeWorker(
  spec: WorkerSpec,
  scriptPath: string,
  vars: Record<string, string>,
  socket?: { host: string; port: number },
): RuntimeWorker {
  const c = spec.config;
  const sqlite = new Set((c.migrations ?? []).flatMap((m) => m.new_sqlite_classes ?? []));
  const bindings = c.durable_objects?.bindings ?? [];
  // A class is this worker's when a binding names it without another worker's script (as wrangler does).
  const own = [...new Set(bindings.filter((b) => !b.script_name || b.script_name === c.name).map((b) => b.class_name))];
  return {
    name: c.name,
    modules: [{ name: path.basename(scriptPath), type: "esModule", path: scriptPath }],
    compatibilityDate: c.compatibility_date,
    compatibilityFlags: c.compatibility_flags ?? [],
    vars: { ...(c.vars ?? {}), ...vars },
    durableObjects: bindings.map((b) => ({
      binding: b.name,
      className: b.class_name,
      ...(b.script_name && b.script_name !== c.name ? { scriptName: b.script_name } : {}),
    })),
    classes: own.map((className) => ({ className, sql: sqlite.has(className) })),
    services: (c.services ?? []).map((s) => ({
      binding: s.binding,
      service: s.service,
      ...(s.entrypoint ? { entrypoint: s.entrypoint } : {}),
    })),
    ...(socket ? { socket: { name: spec.service, ...socket } } : {}),
  };
}
