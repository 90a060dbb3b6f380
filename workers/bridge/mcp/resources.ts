/**
 * The graph as MCP resources, as the reference memory server serves it: `memory://knowledge-graph`
 * is the default namespace's whole graph (JSON), and `memory://knowledge-graph/{namespace}` any
 * other namespace's. Both are read without a session.
 */
import { ResourceTemplate, type McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { McpError, ErrorCode } from "@modelcontextprotocol/sdk/types.js";
import { GRAPH_URI, NamespaceSchema } from "../../../lib/graph-types";
import type { CellBinding } from "../../../lib/rpc";
import { askCell } from "../cell";

/** A resource URI this server serves: the default graph, or a namespace's. */
export function isGraphUri(uri: string): boolean {
  if (uri === GRAPH_URI) return true;
  const ns = uri.startsWith(`${GRAPH_URI}/`) ? uri.slice(GRAPH_URI.length + 1) : undefined;
  return ns !== undefined && NamespaceSchema.safeParse(ns).success;
}

async function graphText(cell: CellBinding | undefined, namespace: string): Promise<string> {
  const answer = await askCell(cell, (c) => c.graph("read_graph", { namespace }));
  if (!answer.ok) throw new McpError(ErrorCode.InternalError, answer.error);
  // The reference server's text: the graph as indented JSON.
  const graph = JSON.parse(answer.value) as { entities: unknown; relations: unknown };
  return JSON.stringify({ entities: graph.entities, relations: graph.relations }, null, 2);
}

export function registerGraphResources(server: McpServer, cellOf: () => CellBinding | undefined): void {
  server.registerResource(
    "knowledge-graph",
    GRAPH_URI,
    {
      title: "Knowledge Graph",
      description: "The full knowledge graph with all entities and relations",
      mimeType: "application/json",
    },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: "application/json", text: await graphText(cellOf(), "default") }] }),
  );
  server.registerResource(
    "namespace-knowledge-graph",
    new ResourceTemplate(`${GRAPH_URI}/{namespace}`, {
      list: async () => {
        const answer = await askCell(cellOf(), (c) => c.namespaces());
        const names = answer.ok ? answer.value : [];
        return {
          resources: names.map((ns) => ({
            uri: `${GRAPH_URI}/${ns}`,
            name: `knowledge-graph/${ns}`,
            title: `Knowledge Graph: ${ns}`,
            mimeType: "application/json",
          })),
        };
      },
    }),
    {
      title: "Knowledge Graph of a namespace",
      description: "The knowledge graph of one project namespace, with all its entities and relations",
      mimeType: "application/json",
    },
    async (uri, variables) => {
      const ns = NamespaceSchema.safeParse(String(variables["namespace"] ?? ""));
      if (!ns.success) throw new McpError(ErrorCode.InvalidParams, `not a namespace: ${String(variables["namespace"])}`);
      return { contents: [{ uri: uri.href, mimeType: "application/json", text: await graphText(cellOf(), ns.data) }] };
    },
  );
}
