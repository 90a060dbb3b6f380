/**
 * Copilot finds the memory with no configuration: the bridge's /mcp is
 * offered through VS Code's MCP server definition provider API, final in
 * VS Code 1.101 (`vscode.lm.registerMcpServerDefinitionProvider`,
 * contribution point `mcpServerDefinitionProviders`).
 *
 * VS Code 1.100 has the same function and class, but only as the proposed
 * API "mcpConfigurationProvider": a stock 1.100 throws "CANNOT use API
 * proposal" for an extension that does not declare the proposal (and one
 * from the Marketplace may not), so there the registration fails and the
 * caller shows, once, how to add `.vscode/mcp.json` instead. code-server
 * lets every extension use proposed APIs, so code-server 4.100.x (VS Code
 * 1.100) takes the provider; it reads the provider's id from that version's
 * contribution point, `modelContextServerCollections`, which the manifest
 * declares too (the workbench test runs on code-server 4.100.3). An older
 * VS Code has no such function at all.
 *
 * `McpHost` is the part of the `vscode` module this needs, written after the
 * final API; extension.ts passes the real module (type-checked against
 * @types/vscode 1.101), the unit tests a stand-in of the same shape.
 */

export interface Disposable {
  dispose(): unknown;
}
export type Event<T> = (listener: (e: T) => unknown) => Disposable;

export interface DefinitionProvider<D> {
  readonly onDidChangeMcpServerDefinitions?: Event<void>;
  provideMcpServerDefinitions(token: unknown): D[];
  resolveMcpServerDefinition?(server: D, token: unknown): D | undefined;
}

export interface McpHost<U, D> {
  readonly version: string;
  readonly lm: {
    readonly registerMcpServerDefinitionProvider?: (id: string, provider: DefinitionProvider<D>) => Disposable;
  };
  readonly McpHttpServerDefinition?: new (label: string, uri: U, headers?: Record<string, string>, version?: string) => D;
  readonly Uri: { parse(value: string): U };
  readonly EventEmitter: new () => { readonly event: Event<void>; fire(data: void): void; dispose(): void };
}

/** The id in package.json's contributes.mcpServerDefinitionProviders. */
export const MCP_PROVIDER_ID = "aios.memory";
export const MCP_SERVER_LABEL = "AIOS Cell Stack memory";

export type McpRegistration = { kind: "registered"; refresh(): void; dispose(): void } | { kind: "unsupported"; reason: string };

/** `mcpUrl` gives undefined while there is no usable bridge address: then no server is offered. */
export function registerMcpProvider<U, D>(host: McpHost<U, D>, mcpUrl: () => string | undefined): McpRegistration {
  const register = host.lm?.registerMcpServerDefinitionProvider;
  const Definition = host.McpHttpServerDefinition;
  if (typeof register !== "function" || typeof Definition !== "function") {
    return {
      kind: "unsupported",
      reason: `VS Code ${host.version} has no MCP server definition provider API (it is final from VS Code 1.101)`,
    };
  }
  const changed = new host.EventEmitter();
  const provider: DefinitionProvider<D> = {
    onDidChangeMcpServerDefinitions: changed.event,
    provideMcpServerDefinitions: () => {
      const url = mcpUrl();
      return url === undefined ? [] : [new Definition(MCP_SERVER_LABEL, host.Uri.parse(url))];
    },
    resolveMcpServerDefinition: (server) => server,
  };
  let registration: Disposable;
  try {
    registration = register.call(host.lm, MCP_PROVIDER_ID, provider);
  } catch (e) {
    // VS Code 1.100 has the function as a proposed API, which it refuses to extensions that do not declare it.
    changed.dispose();
    const message = (e as Error).message;
    const proposal = /CANNOT use API proposal/.test(message)
      ? " (there it is a proposed API; it is final from VS Code 1.101)"
      : "";
    return {
      kind: "unsupported",
      reason: `VS Code ${host.version} refused the MCP server definition provider API${proposal}: ${message}`,
    };
  }
  return {
    kind: "registered",
    refresh: () => changed.fire(),
    dispose: () => {
      registration.dispose();
      changed.dispose();
    },
  };
}

/** The `.vscode/mcp.json` entry for the bridge, for VS Code versions without the provider API. */
export function mcpJsonEntry(mcpUrl: string): { type: "http"; url: string } {
  return { type: "http", url: mcpUrl };
}

/**
 * `.vscode/mcp.json` with the bridge added as server "aios": the new file's
 * text, or why it was left alone (it has comments, or "aios" is there already).
 */
export function withAiosServer(existing: string | undefined, mcpUrl: string): { text: string } | { unchanged: string } {
  if (existing === undefined || !existing.trim()) {
    return { text: `${JSON.stringify({ servers: { aios: mcpJsonEntry(mcpUrl) } }, null, 2)}\n` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(existing);
  } catch {
    return { unchanged: "it is not plain JSON (comments?); add the entry by hand" };
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return { unchanged: "it is not a JSON object" };
  const doc = parsed as { servers?: Record<string, unknown> };
  if (doc.servers !== undefined && (typeof doc.servers !== "object" || doc.servers === null || Array.isArray(doc.servers)))
    return { unchanged: '"servers" is not an object' };
  if (doc.servers?.["aios"] !== undefined) return { unchanged: 'it already has a server named "aios"' };
  const next = { ...doc, servers: { ...(doc.servers ?? {}), aios: mcpJsonEntry(mcpUrl) } };
  return { text: `${JSON.stringify(next, null, 2)}\n` };
}
