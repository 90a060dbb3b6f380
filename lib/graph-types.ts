/** The knowledge-graph data model of the MCP reference memory server, its wire limits and timings. */
import { z } from "zod";

/** How long the store must be free of writes before its search indexes are merged (search.ts). */
export const SEARCH_COMPACT_IDLE_MS = 1000;

export const LIMITS = {
  namespace: 64,
  name: 256,
  type: 128,
  observation: 8192,
  itemsPerRequest: 1000,
  query: 512,
  searchResults: 200,
} as const;

const text = (max: number, what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(max, `${what} is longer than ${max} characters`);

/** The default namespace's graph as an MCP resource; `${GRAPH_URI}/<namespace>` is any namespace's. */
export const GRAPH_URI = "memory://knowledge-graph";

export const NamespaceSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "namespace must be 1-64 characters of A-Z, a-z, 0-9, '.', '_', '-'")
  .default("default")
  .describe('Project namespace of the memory (default: "default"); one per project keeps memories apart');

const list = <T extends z.ZodType>(item: T, what: string) =>
  z.array(item).max(LIMITS.itemsPerRequest, `at most ${LIMITS.itemsPerRequest} ${what} per request`);

// Field descriptions are the reference memory server's, so MCP clients see the same tool schemas.
export const EntitySchema = z.object({
  name: text(LIMITS.name, "name").describe("The name of the entity"),
  entityType: text(LIMITS.type, "entityType").describe("The type of the entity"),
  observations: list(text(LIMITS.observation, "observation"), "observations")
    .default([])
    .describe("An array of observation contents associated with the entity"),
});

export const RelationSchema = z.object({
  from: text(LIMITS.name, "from").describe("The name of the entity where the relation starts"),
  to: text(LIMITS.name, "to").describe("The name of the entity where the relation ends"),
  relationType: text(LIMITS.type, "relationType").describe("The type of the relation"),
});

export const ObservationAddSchema = z.object({
  entityName: text(LIMITS.name, "entityName").describe("The name of the entity to add the observations to"),
  contents: list(text(LIMITS.observation, "observation"), "observations").describe("An array of observation contents to add"),
});

export const ObservationDeleteSchema = z.object({
  entityName: text(LIMITS.name, "entityName").describe("The name of the entity containing the observations"),
  observations: list(text(LIMITS.observation, "observation"), "observations").describe("An array of observations to delete"),
});

export const GraphRequests = {
  create_entities: z.object({ namespace: NamespaceSchema, entities: list(EntitySchema, "entities") }),
  create_relations: z.object({ namespace: NamespaceSchema, relations: list(RelationSchema, "relations") }),
  add_observations: z.object({ namespace: NamespaceSchema, observations: list(ObservationAddSchema, "entries") }),
  delete_entities: z.object({
    namespace: NamespaceSchema,
    entityNames: list(text(LIMITS.name, "entity name"), "names").describe("An array of entity names to delete"),
  }),
  delete_observations: z.object({ namespace: NamespaceSchema, deletions: list(ObservationDeleteSchema, "deletions") }),
  delete_relations: z.object({
    namespace: NamespaceSchema,
    relations: list(RelationSchema, "relations").describe("An array of relations to delete"),
  }),
  read_graph: z.object({ namespace: NamespaceSchema }),
  search_nodes: z.object({
    namespace: NamespaceSchema,
    query: text(LIMITS.query, "query").describe("The search query to match against entity names, types, and observation content"),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(LIMITS.searchResults)
      .default(50)
      .describe(`At most this many entities, best matches first (1-${LIMITS.searchResults}, default 50)`),
  }),
  open_nodes: z.object({
    namespace: NamespaceSchema,
    names: list(text(LIMITS.name, "name"), "names").describe("An array of entity names to retrieve"),
  }),
} as const;

export type GraphOp = keyof typeof GraphRequests;
export type GraphRequest<K extends GraphOp> = z.infer<(typeof GraphRequests)[K]>;
/** The operations that only read: answered with GET as well as POST. */
export const READ_OPS = ["read_graph", "search_nodes", "open_nodes"] as const satisfies readonly GraphOp[];
export type ReadOp = (typeof READ_OPS)[number];
export const isReadOp = (op: GraphOp): op is ReadOp => (READ_OPS as readonly GraphOp[]).includes(op);

export interface Entity {
  name: string;
  entityType: string;
  observations: string[];
}
export interface Relation {
  from: string;
  to: string;
  relationType: string;
}
export interface Graph {
  entities: Entity[];
  relations: Relation[];
}

/** Business outcomes cross the Durable Object RPC boundary as values, not exceptions. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; status: 400 | 404 | 409; error: string };
