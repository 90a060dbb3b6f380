/**
 * The MCP server definition provider against a stand-in with the final API's
 * shape (VS Code 1.101: lm.registerMcpServerDefinitionProvider,
 * McpHttpServerDefinition). The real VS Code module is checked against the
 * same shape by the compiler (src/extension.ts passes it, with @types/vscode 1.101).
 */
import { describe, expect, it } from "vitest";
import manifest from "../package.json";
import {
  MCP_PROVIDER_ID,
  MCP_SERVER_LABEL,
  registerMcpProvider,
  withAiosServer,
  type DefinitionProvider,
  type McpHost,
} from "../src/mcp-provider";

class Uri {
  private constructor(readonly value: string) {}
  static parse(value: string): Uri {
    return new Uri(value);
  }
}
class McpHttpServerDefinition {
  constructor(
    readonly label: string,
    readonly uri: Uri,
    readonly headers?: Record<string, string>,
    readonly version?: string,
  ) {}
}
class EventEmitter {
  listeners: (() => unknown)[] = [];
  disposed = false;
  event = (l: () => unknown) => {
    this.listeners.push(l);
    return { dispose: () => undefined };
  };
  fire(): void {
    this.listeners.forEach((l) => l());
  }
  dispose(): void {
    this.disposed = true;
  }
}

function host(register?: McpHost<Uri, McpHttpServerDefinition>["lm"]["registerMcpServerDefinitionProvider"]) {
  return {
    version: "1.101.0",
    lm: register ? { registerMcpServerDefinitionProvider: register } : {},
    McpHttpServerDefinition,
    Uri,
    EventEmitter,
  } satisfies McpHost<Uri, McpHttpServerDefinition>;
}

describe("the MCP server definition provider", () => {
  it("registers under the id package.json contributes, offering the bridge's /mcp over HTTP", () => {
    const registered: { id: string; provider: DefinitionProvider<McpHttpServerDefinition> }[] = [];
    let disposed = false;
    let url: string | undefined = "http://127.0.0.1:3001/mcp";
    const r = registerMcpProvider(
      host((id, provider) => {
        registered.push({ id, provider });
        return { dispose: () => (disposed = true) };
      }),
      () => url,
    );
    expect(r.kind).toBe("registered");
    expect(registered.map((x) => x.id)).toEqual([MCP_PROVIDER_ID]);
    expect(manifest.contributes.mcpServerDefinitionProviders.map((p) => p.id)).toContain(MCP_PROVIDER_ID);
    const provider = registered[0]!.provider;
    const defs = provider.provideMcpServerDefinitions(undefined);
    expect(defs).toHaveLength(1);
    expect(defs[0]).toBeInstanceOf(McpHttpServerDefinition);
    expect(defs[0]!.uri.value).toBe("http://127.0.0.1:3001/mcp");
    expect(defs[0]!.label).toMatch(/AIOS/);
    expect(provider.resolveMcpServerDefinition?.(defs[0]!, undefined)).toBe(defs[0]);

    // The bridge URL setting changes: VS Code is told to ask again, and gets the new URL.
    let told = 0;
    provider.onDidChangeMcpServerDefinitions!(() => told++);
    url = "http://127.0.0.1:4001/mcp";
    if (r.kind === "registered") r.refresh();
    expect(told).toBe(1);
    expect(provider.provideMcpServerDefinitions(undefined)[0]!.uri.value).toBe("http://127.0.0.1:4001/mcp");
    // No usable bridge address: no server offered, rather than one at a stale address.
    url = undefined;
    if (r.kind === "registered") r.refresh();
    expect(told).toBe(2);
    expect(provider.provideMcpServerDefinitions(undefined)).toEqual([]);
    if (r.kind === "registered") r.dispose();
    expect(disposed).toBe(true);
  });

  it("on a VS Code without the API, registers nothing and says which version", () => {
    const r = registerMcpProvider({ ...host(), version: "1.99.3" }, () => "http://x/mcp");
    expect(r).toEqual({ kind: "unsupported", reason: expect.stringMatching(/1\.99\.3.*1\.101/) });
  });

  it("on stock VS Code 1.100, where the API is a proposal that throws when called, registers nothing and says why", () => {
    const r = registerMcpProvider(
      {
        ...host(() => {
          throw new Error("Extension 'aios.aios-cell-stack' CANNOT use API proposal: mcpConfigurationProvider.");
        }),
        version: "1.100.3",
      },
      () => "http://x/mcp",
    );
    expect(r).toEqual({
      kind: "unsupported",
      reason: expect.stringMatching(
        /1\.100\.3 refused .*proposed API; it is final from VS Code 1\.101.*mcpConfigurationProvider/,
      ),
    });
  });

  it("the package.json asks for no proposed API (VS Code would refuse to install it from the Marketplace)", () => {
    expect(manifest).not.toHaveProperty("enabledApiProposals");
  });

  it("the provider is contributed under the final contribution point and under VS Code 1.100's, with one id", () => {
    expect(manifest.contributes.mcpServerDefinitionProviders).toEqual([{ id: MCP_PROVIDER_ID, label: MCP_SERVER_LABEL }]);
    expect(manifest.contributes.modelContextServerCollections).toEqual(manifest.contributes.mcpServerDefinitionProviders);
  });
});

describe(".vscode/mcp.json for older VS Code", () => {
  const url = "http://127.0.0.1:3001/mcp";
  it("is written new when there is none", () => {
    expect(withAiosServer(undefined, url)).toEqual({
      text: `${JSON.stringify({ servers: { aios: { type: "http", url } } }, null, 2)}\n`,
    });
  });
  it("keeps the other servers and settings of an existing file", () => {
    const r = withAiosServer(JSON.stringify({ inputs: [], servers: { gh: { type: "http", url: "https://x" } } }), url);
    expect("text" in r && JSON.parse(r.text)).toEqual({
      inputs: [],
      servers: { gh: { type: "http", url: "https://x" }, aios: { type: "http", url } },
    });
  });
  it("is left alone when it has comments, is not an object, or already has aios", () => {
    expect(withAiosServer('{ // mine\n "servers": {} }', url)).toHaveProperty("unchanged");
    expect(withAiosServer("[]", url)).toHaveProperty("unchanged");
    expect(withAiosServer(JSON.stringify({ servers: { aios: {} } }), url)).toEqual({
      unchanged: 'it already has a server named "aios"',
    });
  });
});
