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

export const NamespaceSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "namespace must be 1-64 characters of A-Z, a-z, 0-9, '.', '_', '-'")
  .default("default");

const list = <T extends z.ZodType>(item: T, what: string) =>
  z.array(item).max(LIMITS.itemsPerRequest, `at most ${LIMITS.itemsPerRequest} ${what} per request`);

export const EntitySchema = z.object({
  name: text(LIMITS.name, "name"),
  entityType: text(LIMITS.type, "entityType"),
  observations: list(text(LIMITS.observation, "observation"), "observations").default([]),
});

export const RelationSchema = z.object({
  from: text(LIMITS.name, "from"),
  to: text(LIMITS.name, "to"),
  relationType: text(LIMITS.type, "relationType"),
});

export const ObservationAddSchema = z.object({
  entityName: text(LIMITS.name, "entityName"),
  contents: list(text(LIMITS.observation, "observation"), "observations"),
});

export const ObservationDeleteSchema = z.object({
  entityName: text(LIMITS.name, "entityName"),
  observations: list(text(LIMITS.observation, "observation"), "observations"),
});

export const GraphRequests = {
  create_entities: z.object({ namespace: NamespaceSchema, entities: list(EntitySchema, "entities") }),
  create_relations: z.object({ namespace: NamespaceSchema, relations: list(RelationSchema, "relations") }),
  add_observations: z.object({ namespace: NamespaceSchema, observations: list(ObservationAddSchema, "entries") }),
  delete_entities: z.object({ namespace: NamespaceSchema, entityNames: list(text(LIMITS.name, "entity name"), "names") }),
  delete_observations: z.object({ namespace: NamespaceSchema, deletions: list(ObservationDeleteSchema, "deletions") }),
  delete_relations: z.object({ namespace: NamespaceSchema, relations: list(RelationSchema, "relations") }),
  read_graph: z.object({ namespace: NamespaceSchema }),
  search_nodes: z.object({
    namespace: NamespaceSchema,
    query: text(LIMITS.query, "query"),
    limit: z.coerce.number().int().min(1).max(LIMITS.searchResults).default(50),
  }),
  open_nodes: z.object({ namespace: NamespaceSchema, names: list(text(LIMITS.name, "name"), "names") }),
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
