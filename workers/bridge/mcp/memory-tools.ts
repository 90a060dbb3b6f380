/**
 * The nine tools of the MCP reference memory server, with its exact names, argument names and
 * result shapes, so prompts written for it keep working. Their input schemas are the stack's own
 * (lib/graph-types.ts, with its size limits), and each also takes an optional `namespace`.
 */
import { z } from "zod";
import { GraphRequests, type GraphOp, type GraphRequest } from "../../../lib/graph-types";
import { askCell } from "../cell";
import { errorResult, jsonResult } from "./results";
import { DESTROY, READ, WRITE, type ToolSpec } from "./tools";

const EntityOut = z.object({ name: z.string(), entityType: z.string(), observations: z.array(z.string()) });
const RelationOut = z.object({ from: z.string(), to: z.string(), relationType: z.string() });
const GraphOutput = { entities: z.array(EntityOut), relations: z.array(RelationOut) };
const Done = { success: z.boolean(), message: z.string() };

type Body = Record<string, unknown>;

interface MemoryTool {
  title: string;
  description: string;
  output: z.ZodRawShape;
  annotations: ToolSpec["annotations"];
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
    annotations: WRITE,
    shape: (b) => ({ entities: b["entities"] }),
  },
  create_relations: {
    title: "Create Relations",
    description: "Create multiple new relations between entities in the knowledge graph. Relations should be in active voice",
    output: { relations: z.array(RelationOut) },
    annotations: WRITE,
    shape: (b) => ({ relations: b["relations"] }),
  },
  add_observations: {
    title: "Add Observations",
    description: "Add new observations to existing entities in the knowledge graph",
    output: { results: z.array(z.object({ entityName: z.string(), addedObservations: z.array(z.string()) })) },
    annotations: WRITE,
    shape: (b) => ({ results: b["results"] }),
  },
  delete_entities: {
    title: "Delete Entities",
    description: "Delete multiple entities and their associated relations from the knowledge graph",
    output: Done,
    annotations: DESTROY,
    ...done("Entities deleted successfully"),
  },
  delete_observations: {
    title: "Delete Observations",
    description: "Delete specific observations from entities in the knowledge graph",
    output: Done,
    annotations: DESTROY,
    ...done("Observations deleted successfully"),
  },
  delete_relations: {
    title: "Delete Relations",
    description: "Delete multiple relations from the knowledge graph",
    output: Done,
    annotations: DESTROY,
    ...done("Relations deleted successfully"),
  },
  read_graph: {
    title: "Read Graph",
    description: "Read the entire knowledge graph",
    output: GraphOutput,
    annotations: READ,
    shape: graph,
  },
  search_nodes: {
    title: "Search Nodes",
    description: "Search for nodes in the knowledge graph based on a query",
    output: GraphOutput,
    annotations: READ,
    shape: graph,
  },
  open_nodes: {
    title: "Open Nodes",
    description: "Open specific nodes in the knowledge graph by their names",
    output: GraphOutput,
    annotations: READ,
    shape: graph,
  },
};

/** The nine tools: each calls the cell's typed `graph` method with the arguments its schema parsed. */
export const MEMORY_TOOLS: ToolSpec[] = (Object.entries(TOOLS) as [GraphOp, MemoryTool][]).map(([op, tool]) => ({
  name: op,
  title: tool.title,
  description: tool.description,
  input: GraphRequests[op],
  output: tool.output,
  annotations: tool.annotations,
  async run(cell, args) {
    const answer = await askCell(cell, (c) => c.graph(op, args as GraphRequest<typeof op>));
    if (!answer.ok) return errorResult(answer.error);
    return jsonResult(tool.shape(JSON.parse(answer.value) as Body), tool.text);
  },
}));
