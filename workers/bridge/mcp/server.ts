/**
 * /mcp: MCP over Streamable HTTP with the SDK's web-standard transport.
 * Stateless: each request gets a fresh server bound to the same shared state
 * (the cell), so any number of sessions and isolates can serve it.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { CellBinding } from "../../../lib/rpc";
import { VERSION } from "../../../lib/version";
import { registerCellTools } from "./cell-tools";
import { registerMemoryTools } from "./memory-tools";
import { registerRecallTool } from "./recall-tool";

export async function handleMcp(request: Request, cell: CellBinding | undefined): Promise<Response> {
  const server = new McpServer(
    { name: "aios-cell", version: VERSION },
    {
      instructions:
        "Shared memory and context of the developer's machines. Memory tools work like the reference memory server; use a namespace per project. For questions in natural language use recall (by meaning), not search_nodes (exact substring).",
    },
  );
  registerMemoryTools(server, cell);
  registerRecallTool(server, cell);
  registerCellTools(server, cell);
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await server.connect(transport);
  try {
    return await transport.handleRequest(request);
  } finally {
    void server.close();
  }
}
