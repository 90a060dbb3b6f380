/**
 * The nine tools of the MCP reference memory server, with its exact names, argument names and
 * result shapes, so prompts written for it keep working. Their input schemas are the stack's own
 * (lib/graph-types.ts, with its size limits), and each also takes an optional `namespace`.
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { GraphRequests, type GraphOp, type GraphRequest } from "../../../lib/graph-types";
import type { CellBinding } from "../../../lib/rpc";
import { askCell } from "../cell";
import { errorResult, jsonResult } from "./results";

const EntityOut = z.object({ name: z.string(), entityType: z.string(), observations: z.array(z.string()) });
const RelationOut = z.object({ from: z.string(), to: z.string(), relationType: z.string() });
const GraphOutput = { entities: z.array(EntityOut), relations: z.array(RelationOut) };
const Done = { success: z.boolean(), message: z.string() };

const write = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false };
const destroy = { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false };
const read = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

type Body = Record<string, unknown>;

interface MemoryTool {
  title: string;
  description: string;
  output: z.ZodRawShape;
  annotations: typeof read;
  /** The MCP result's structured content, from the cell's REST answer. */
  shape: (body: Body) => Body;
  /** The text content, when it is not the structured content as JSON. */
  text?: string;
}

const graph = (b: Body) => ({ entities: b["entities"], relations: b["relations"] });
const done = (message: string) => ({ shape: () => ({ success: true, message }), text: message });

const TOOLS: Record<GraphOp, MemoryTool> = {
  create_entities: {
    title: "Create Entities",
    description: "Create multiple new entities in the knowledge graph",
    output: { entities: z.array(EntityOut) },
    annotations: write,
    shape: (b) => ({ entities: b["entities"] }),
  },
  create_relations: {
    title: "Create Relations",
    description: "Create multiple new relations between entities in the knowledge graph. Relations should be in active voice",
    output: { relations: z.array(RelationOut) },
    annotations: write,
    shape: (b) => ({ relations: b["relations"] }),
  },
  add_observations: {
    title: "Add Observations",
    description: "Add new observations to existing entities in the knowledge graph",
    output: { results: z.array(z.object({ entityName: z.string(), addedObservations: z.array(z.string()) })) },
    annotations: write,
    shape: (b) => ({ results: b["results"] }),
  },
  delete_entities: {
    title: "Delete Entities",
    description: "Delete multiple entities and their associated relations from the knowledge graph",
    output: Done,
    annotations: destroy,
    ...done("Entities deleted successfully"),
  },
  delete_observations: {
    title: "Delete Observations",
    description: "Delete specific observations from entities in the knowledge graph",
    output: Done,
    annotations: destroy,
    ...done("Observations deleted successfully"),
  },
  delete_relations: {
    title: "Delete Relations",
    description: "Delete multiple relations from the knowledge graph",
    output: Done,
    annotations: destroy,
    ...done("Relations deleted successfully"),
  },
  read_graph: {
    title: "Read Graph",
    description: "Read the entire knowledge graph",
    output: GraphOutput,
    annotations: read,
    shape: graph,
  },
  search_nodes: {
    title: "Search Nodes",
    description: "Search for nodes in the knowledge graph based on a query",
    output: GraphOutput,
    annotations: read,
    shape: graph,
  },
  open_nodes: {
    title: "Open Nodes",
    description: "Open specific nodes in the knowledge graph by their names",
    output: GraphOutput,
    annotations: read,
    shape: graph,
  },
};

/** Registers the nine tools; `cellOf` gives the cell of the request being served. */
export function registerMemoryTools(server: McpServer, cellOf: () => CellBinding | undefined): void {
  for (const [op, tool] of Object.entries(TOOLS) as [GraphOp, MemoryTool][]) {
    server.registerTool(
      op,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: GraphRequests[op],
        outputSchema: tool.output,
        annotations: tool.annotations,
      },
      async (args: unknown) => {
        const answer = await askCell(cellOf(), (cell) => cell.graph(op, args as GraphRequest<typeof op>));
        if (!answer.ok) return errorResult(answer.error);
        return jsonResult(tool.shape(JSON.parse(answer.value) as Body), tool.text);
      },
    );
  }
}
