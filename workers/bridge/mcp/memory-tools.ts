/**
 * The nine tools of the MCP reference memory server, with its exact names,
 * argument shapes and result shapes, so prompts written for it keep working.
 * Each also takes an optional `namespace` (one per project).
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { CellBinding } from "../../../lib/rpc";
import { callCell } from "./cell-client";
import { errorResult, jsonResult } from "./results";

const EntitySchema = z.object({
  name: z.string().describe("The name of the entity"),
  entityType: z.string().describe("The type of the entity"),
  observations: z.array(z.string()).describe("An array of observation contents associated with the entity"),
});
const RelationSchema = z.object({
  from: z.string().describe("The name of the entity where the relation starts"),
  to: z.string().describe("The name of the entity where the relation ends"),
  relationType: z.string().describe("The type of the relation"),
});
const GraphOutput = { entities: z.array(EntitySchema), relations: z.array(RelationSchema) };
const Done = { success: z.boolean(), message: z.string() };
const namespace = z
  .string()
  .optional()
  .describe('Project namespace of the memory (default: "default"); one per project keeps memories apart');

const write = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false };
const destroy = { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false };
const read = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

export function registerMemoryTools(server: McpServer, cell: CellBinding | undefined): void {
  const op = async (
    name: string,
    args: Record<string, unknown>,
    shape: (body: Record<string, unknown>) => Record<string, unknown>,
    text?: string,
  ) => {
    const r = await callCell(cell, "POST", `/memory/${name}`, args);
    if (!r.ok) return errorResult(r.error);
    const structured = shape(r.body);
    return jsonResult(structured, text);
  };
  const graph = (b: Record<string, unknown>) => ({ entities: b["entities"], relations: b["relations"] });
  const done = (message: string) => () => ({ success: true, message });

  server.registerTool(
    "create_entities",
    {
      title: "Create Entities",
      description: "Create multiple new entities in the knowledge graph",
      inputSchema: { entities: z.array(EntitySchema), namespace },
      outputSchema: { entities: z.array(EntitySchema) },
      annotations: write,
    },
    (args) => op("create_entities", args, (b) => ({ entities: b["entities"] })),
  );
  server.registerTool(
    "create_relations",
    {
      title: "Create Relations",
      description: "Create multiple new relations between entities in the knowledge graph. Relations should be in active voice",
      inputSchema: { relations: z.array(RelationSchema), namespace },
      outputSchema: { relations: z.array(RelationSchema) },
      annotations: write,
    },
    (args) => op("create_relations", args, (b) => ({ relations: b["relations"] })),
  );
  server.registerTool(
    "add_observations",
    {
      title: "Add Observations",
      description: "Add new observations to existing entities in the knowledge graph",
      inputSchema: {
        observations: z.array(
          z.object({
            entityName: z.string().describe("The name of the entity to add the observations to"),
            contents: z.array(z.string()).describe("An array of observation contents to add"),
          }),
        ),
        namespace,
      },
      outputSchema: { results: z.array(z.object({ entityName: z.string(), addedObservations: z.array(z.string()) })) },
      annotations: write,
    },
    (args) => op("add_observations", args, (b) => ({ results: b["results"] })),
  );
  server.registerTool(
    "delete_entities",
    {
      title: "Delete Entities",
      description: "Delete multiple entities and their associated relations from the knowledge graph",
      inputSchema: { entityNames: z.array(z.string()).describe("An array of entity names to delete"), namespace },
      outputSchema: Done,
      annotations: destroy,
    },
    (args) => op("delete_entities", args, done("Entities deleted successfully"), "Entities deleted successfully"),
  );
  server.registerTool(
    "delete_observations",
    {
      title: "Delete Observations",
      description: "Delete specific observations from entities in the knowledge graph",
      inputSchema: {
        deletions: z.array(
          z.object({
            entityName: z.string().describe("The name of the entity containing the observations"),
            observations: z.array(z.string()).describe("An array of observations to delete"),
          }),
        ),
        namespace,
      },
      outputSchema: Done,
      annotations: destroy,
    },
    (args) => op("delete_observations", args, done("Observations deleted successfully"), "Observations deleted successfully"),
  );
  server.registerTool(
    "delete_relations",
    {
      title: "Delete Relations",
      description: "Delete multiple relations from the knowledge graph",
      inputSchema: { relations: z.array(RelationSchema).describe("An array of relations to delete"), namespace },
      outputSchema: Done,
      annotations: destroy,
    },
    (args) => op("delete_relations", args, done("Relations deleted successfully"), "Relations deleted successfully"),
  );
  server.registerTool(
    "read_graph",
    {
      title: "Read Graph",
      description: "Read the entire knowledge graph",
      inputSchema: { namespace },
      outputSchema: GraphOutput,
      annotations: read,
    },
    (args) => op("read_graph", args, graph),
  );
  server.registerTool(
    "search_nodes",
    {
      title: "Search Nodes",
      description: "Search for nodes in the knowledge graph based on a query",
      inputSchema: {
        query: z.string().describe("The search query to match against entity names, types, and observation content"),
        namespace,
      },
      outputSchema: GraphOutput,
      annotations: read,
    },
    (args) => op("search_nodes", args, graph),
  );
  server.registerTool(
    "open_nodes",
    {
      title: "Open Nodes",
      description: "Open specific nodes in the knowledge graph by their names",
      inputSchema: { names: z.array(z.string()).describe("An array of entity names to retrieve"), namespace },
      outputSchema: GraphOutput,
      annotations: read,
    },
    (args) => op("open_nodes", args, graph),
  );
}
