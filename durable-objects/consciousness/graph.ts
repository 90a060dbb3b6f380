/**
 * The nine operations of the MCP reference memory server over SQLite, with
 * its semantics (duplicates skipped, cascading deletes, unknown entity is an
 * error), plus namespaces and replication metadata on every row.
 */
import type { Entity, Graph, GraphRequest, Outcome, Relation } from "../../lib/graph-types";
import { all, one } from "../../lib/sql";
import { searchEntities, type Hit } from "./search";

/** Stamps one row change: a fresh sequence number of this cell and the operation's clock. */
export interface Stamp {
  hlc: string;
  origin: string;
  oseq: number;
}
export type Stamper = () => Stamp;

export type ObservationsAdded = { entityName: string; addedObservations: string[] }[];

const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });

export class GraphStore {
  constructor(private readonly sql: SqlStorage) {}

  namespaceExists(ns: string): boolean {
    return (
      one(this.sql, "SELECT 1 AS x FROM entities WHERE ns = ? LIMIT 1", ns) !== undefined ||
      one(this.sql, "SELECT 1 AS x FROM relations WHERE ns = ? LIMIT 1", ns) !== undefined
    );
  }

  namespaces(): string[] {
    return all<{ ns: string }>(this.sql, "SELECT DISTINCT ns FROM entities WHERE deleted = 0 ORDER BY ns").map((r) => r.ns);
  }

  private liveEntity(ns: string, name: string) {
    return one<{ rowid: number; deleted: number }>(
      this.sql,
      "SELECT rowid, deleted FROM entities WHERE ns = ? AND name = ?",
      ns,
      name,
    );
  }

  private insertObservation(ns: string, entity: string, content: string, s: Stamp): void {
    // A trigger queues the row for the search indexes (schema.ts, search.ts).
    this.sql.exec(
      `INSERT INTO observations (tag, ns, entity, content, added_hlc, removed, hlc, origin, oseq)
       VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)`,
      `${s.origin}:${s.oseq}`,
      ns,
      entity,
      content,
      s.hlc,
      s.hlc,
      s.origin,
      s.oseq,
    );
  }

  private removeObservations(where: string, params: SqlStorageValue[], stamp: Stamper): number {
    const rows = all<{ rowid: number }>(this.sql, `SELECT rowid FROM observations WHERE removed = 0 AND ${where}`, ...params);
    for (const r of rows) {
      const s = stamp();
      this.sql.exec(
        "UPDATE observations SET removed = 1, hlc = ?, origin = ?, oseq = ? WHERE rowid = ?",
        s.hlc,
        s.origin,
        s.oseq,
        r.rowid,
      );
    }
    return rows.length;
  }

  createEntities(req: GraphRequest<"create_entities">, stamp: Stamper): Outcome<Entity[]> {
    const created: Entity[] = [];
    const seen = new Set<string>();
    for (const e of req.entities) {
      if (seen.has(e.name)) continue;
      seen.add(e.name);
      const existing = this.liveEntity(req.namespace, e.name);
      if (existing && !existing.deleted) continue;
      const s = stamp();
      this.sql.exec(
        `INSERT INTO entities (ns, name, entity_type, deleted, hlc, origin, oseq) VALUES (?, ?, ?, 0, ?, ?, ?)
         ON CONFLICT (ns, name) DO UPDATE SET entity_type = excluded.entity_type, deleted = 0,
           hlc = excluded.hlc, origin = excluded.origin, oseq = excluded.oseq`,
        req.namespace,
        e.name,
        e.entityType,
        s.hlc,
        s.origin,
        s.oseq,
      );
      const observations = [...new Set(e.observations)];
      for (const content of observations) this.insertObservation(req.namespace, e.name, content, stamp());
      created.push({ name: e.name, entityType: e.entityType, observations });
    }
    return ok(created);
  }

  createRelations(req: GraphRequest<"create_relations">, stamp: Stamper): Outcome<Relation[]> {
    const created: Relation[] = [];
    for (const r of req.relations) {
      const existing = one<{ deleted: number }>(
        this.sql,
        "SELECT deleted FROM relations WHERE ns = ? AND from_entity = ? AND to_entity = ? AND relation_type = ?",
        req.namespace,
        r.from,
        r.to,
        r.relationType,
      );
      if (existing && !existing.deleted) continue;
      const s = stamp();
      this.sql.exec(
        `INSERT INTO relations (ns, from_entity, to_entity, relation_type, deleted, hlc, origin, oseq) VALUES (?, ?, ?, ?, 0, ?, ?, ?)
         ON CONFLICT (ns, from_entity, to_entity, relation_type) DO UPDATE SET deleted = 0,
           hlc = excluded.hlc, origin = excluded.origin, oseq = excluded.oseq`,
        req.namespace,
        r.from,
        r.to,
        r.relationType,
        s.hlc,
        s.origin,
        s.oseq,
      );
      created.push({ from: r.from, to: r.to, relationType: r.relationType });
    }
    return ok(created);
  }

  addObservations(req: GraphRequest<"add_observations">, stamp: Stamper): Outcome<ObservationsAdded> {
    const plan = this.planObservations(req);
    return plan.ok ? ok(this.applyObservations(req.namespace, plan.value, stamp)) : plan;
  }

  /**
   * What add_observations will add, read without writing: every entity must be live (else the whole
   * request is refused), and contents an entity already holds, or that the request repeats, are
   * skipped. One lookup per entry answers both; the usual entry of one content needs no JSON.
   */
  planObservations(req: GraphRequest<"add_observations">): Outcome<ObservationsAdded> {
    const held = new Map<string, Set<string>>();
    for (const o of req.observations) {
      const row =
        o.contents.length === 1
          ? one<{ deleted: number; held: number }>(
              this.sql,
              `SELECT e.deleted AS deleted, EXISTS (SELECT 1 FROM observations o
                 WHERE o.ns = e.ns AND o.entity = e.name AND o.content = ?3 AND o.removed = 0) AS held
               FROM entities e WHERE e.ns = ?1 AND e.name = ?2`,
              req.namespace,
              o.entityName,
              o.contents[0]!,
            )
          : one<{ deleted: number; held: string }>(
              this.sql,
              `SELECT e.deleted AS deleted, (SELECT json_group_array(c.value) FROM json_each(?3) c WHERE EXISTS (
                 SELECT 1 FROM observations o WHERE o.ns = e.ns AND o.entity = e.name AND o.content = c.value AND o.removed = 0)) AS held
               FROM entities e WHERE e.ns = ?1 AND e.name = ?2`,
              req.namespace,
              o.entityName,
              JSON.stringify(o.contents),
            );
      if (!row || row.deleted) return { ok: false, status: 404, error: `Entity with name ${o.entityName} not found` };
      const set = held.get(o.entityName) ?? new Set<string>();
      if (typeof row.held === "string") for (const c of JSON.parse(row.held) as string[]) set.add(c);
      else if (row.held) set.add(o.contents[0]!);
      held.set(o.entityName, set);
    }
    return ok(
      req.observations.map((o) => {
        const has = held.get(o.entityName)!;
        const added: string[] = [];
        for (const content of o.contents) {
          if (has.has(content)) continue;
          has.add(content);
          added.push(content);
        }
        return { entityName: o.entityName, addedObservations: added };
      }),
    );
  }

  /** Writes a plan of planObservations: one row per added content. */
  applyObservations(ns: string, plan: ObservationsAdded, stamp: Stamper): ObservationsAdded {
    for (const p of plan) for (const content of p.addedObservations) this.insertObservation(ns, p.entityName, content, stamp());
    return plan;
  }

  deleteEntities(req: GraphRequest<"delete_entities">, stamp: Stamper): Outcome<{ deleted: string[] }> {
    const deleted: string[] = [];
    for (const name of new Set(req.entityNames)) {
      const e = this.liveEntity(req.namespace, name);
      if (!e || e.deleted) continue;
      const s = stamp();
      this.sql.exec(
        "UPDATE entities SET deleted = 1, hlc = ?, origin = ?, oseq = ? WHERE rowid = ?",
        s.hlc,
        s.origin,
        s.oseq,
        e.rowid,
      );
      this.removeObservations("ns = ? AND entity = ?", [req.namespace, name], stamp);
      const rels = all<{ rowid: number }>(
        this.sql,
        "SELECT rowid FROM relations WHERE ns = ? AND deleted = 0 AND (from_entity = ? OR to_entity = ?)",
        req.namespace,
        name,
        name,
      );
      for (const r of rels) this.tombstoneRelation(r.rowid, stamp());
      deleted.push(name);
    }
    return ok({ deleted });
  }

  private tombstoneRelation(rowid: number, s: Stamp): void {
    this.sql.exec(
      "UPDATE relations SET deleted = 1, hlc = ?, origin = ?, oseq = ? WHERE rowid = ?",
      s.hlc,
      s.origin,
      s.oseq,
      rowid,
    );
  }

  deleteObservations(req: GraphRequest<"delete_observations">, stamp: Stamper): Outcome<{ removed: number }> {
    let removed = 0;
    for (const d of req.deletions) {
      if (d.observations.length === 0) continue;
      removed += this.removeObservations(
        "ns = ? AND entity = ? AND content IN (SELECT value FROM json_each(?))",
        [req.namespace, d.entityName, JSON.stringify(d.observations)],
        stamp,
      );
    }
    return ok({ removed });
  }

  deleteRelations(req: GraphRequest<"delete_relations">, stamp: Stamper): Outcome<{ removed: number }> {
    let removed = 0;
    for (const r of req.relations) {
      const row = one<{ rowid: number }>(
        this.sql,
        "SELECT rowid FROM relations WHERE ns = ? AND from_entity = ? AND to_entity = ? AND relation_type = ? AND deleted = 0",
        req.namespace,
        r.from,
        r.to,
        r.relationType,
      );
      if (!row) continue;
      this.tombstoneRelation(row.rowid, stamp());
      removed++;
    }
    return ok({ removed });
  }

  readGraph(ns: string): Graph {
    const entities = all<{ name: string; entity_type: string }>(
      this.sql,
      "SELECT name, entity_type FROM entities WHERE ns = ? AND deleted = 0 ORDER BY name",
      ns,
    );
    const observations = new Map<string, string[]>();
    for (const o of all<{ entity: string; content: string }>(
      this.sql,
      `SELECT entity, content FROM observations WHERE ns = ? AND removed = 0 ORDER BY added_hlc, origin, oseq`,
      ns,
    )) {
      pushUnique(observations, o.entity, o.content);
    }
    const relations = all<{ from_entity: string; to_entity: string; relation_type: string }>(
      this.sql,
      "SELECT from_entity, to_entity, relation_type FROM relations WHERE ns = ? AND deleted = 0 ORDER BY from_entity, to_entity, relation_type",
      ns,
    );
    return {
      entities: entities.map((e) => ({ name: e.name, entityType: e.entity_type, observations: observations.get(e.name) ?? [] })),
      relations: relations.map(toRelation),
    };
  }

  /**
   * The named live entities, in the order asked, and every relation touching one of them, as JSON
   * text made by SQLite in one statement: the REST answer needs nothing more, and no row becomes a
   * JS object. An entity's observations are in the order added; a content added twice concurrently
   * (two tags) is shown once, where its first copy was. `more` is added to the object's members.
   */
  subgraphJson(ns: string, names: string[], more = ""): string {
    const [entities, relations] =
      names.length === 0
        ? ["[]", "[]"]
        : this.sql.exec(SUBGRAPH, ns, JSON.stringify(names)).raw<[string, string]>().next().value!;
    return `{"entities":${entities},"relations":${relations}${more}}`;
  }

  openNodesJson(req: GraphRequest<"open_nodes">): string {
    return this.subgraphJson(req.namespace, [...new Set(req.names)]);
  }

  /** The reference server's matches (substring, case-insensitive), best first: search.ts. */
  searchNodes(req: GraphRequest<"search_nodes">): Graph & { ranked: Hit[] } {
    return JSON.parse(this.searchNodesJson(req)) as Graph & { ranked: Hit[] };
  }
  searchNodesJson(req: GraphRequest<"search_nodes">): string {
    const ranked = searchEntities(this.sql, req.namespace, req.query, req.limit);
    return this.subgraphJson(
      req.namespace,
      ranked.map((r) => r.name),
      `,"ranked":${JSON.stringify(ranked)}`,
    );
  }

  counts(): { entities: number; observations: number; relations: number } {
    return {
      entities: one<{ n: number }>(this.sql, "SELECT count(*) AS n FROM entities WHERE deleted = 0")!.n,
      observations: one<{ n: number }>(this.sql, "SELECT count(*) AS n FROM observations WHERE removed = 0")!.n,
      relations: one<{ n: number }>(this.sql, "SELECT count(*) AS n FROM relations WHERE deleted = 0")!.n,
    };
  }
}

function pushUnique(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (!list) map.set(key, [value]);
  else if (!list.includes(value)) list.push(value);
}

function toRelation(r: { from_entity: string; to_entity: string; relation_type: string }): Relation {
  return { from: r.from_entity, to: r.to_entity, relationType: r.relation_type };
}

/** subgraphJson's statement: ?1 the namespace, ?2 the names as a JSON array. */
const SUBGRAPH = `SELECT
  (SELECT json_group_array(json_object(
      'name', e.name, 'entityType', e.entity_type,
      'observations', json((SELECT json_group_array(c ORDER BY h, g, q) FROM (
        SELECT o.content AS c, min(o.added_hlc) AS h, min(o.origin) AS g, min(o.oseq) AS q FROM observations o
         WHERE o.ns = e.ns AND o.entity = e.name AND o.removed = 0 GROUP BY o.content)))) ORDER BY j.key)
     FROM json_each(?2) j CROSS JOIN entities e ON e.ns = ?1 AND e.name = j.value WHERE e.deleted = 0),
  (SELECT json_group_array(json_object('from', from_entity, 'to', to_entity, 'relationType', relation_type)
      ORDER BY from_entity, to_entity, relation_type)
     FROM relations WHERE ns = ?1 AND deleted = 0
      AND (from_entity IN (SELECT value FROM json_each(?2)) OR to_entity IN (SELECT value FROM json_each(?2))))`;
