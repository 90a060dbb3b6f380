/**
 * Property tests of the merge. Three replicas apply random
 * operations and exchange pages in random order, with pages duplicated and
 * dropped; after a final exchange they always hold identical state, and no
 * acknowledged observation is lost unless a delete that saw it removed it.
 */
import { env, runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GraphStore, type Stamp } from "../../durable-objects/consciousness/graph";
import { RecordStore } from "../../durable-objects/consciousness/records";
import { Replication } from "../../durable-objects/consciousness/replication";
import type { Graph } from "../../lib/graph-types";
import { Hlc } from "../../lib/hlc";
import { all } from "../../lib/sql";
import type { SyncRow } from "../../lib/sync-types";

interface Db {
  sql: SqlStorage;
  graph: GraphStore;
  records: RecordStore;
  rep: Replication;
}

/** One replica: its own Durable Object's SQLite, reached one call at a time (no cross-object I/O). */
class Replica {
  readonly hlc: Hlc;
  oseq = 0;
  constructor(
    readonly id: string,
    private readonly stub: DurableObjectStub,
    clock: () => number,
  ) {
    this.hlc = new Hlc(undefined, clock);
  }
  with<T>(fn: (db: Db) => T): Promise<T> {
    return runInDurableObject(this.stub, (_instance, state) => {
      const sql = state.storage.sql;
      return fn({ sql, graph: new GraphStore(sql), records: new RecordStore(sql), rep: new Replication(sql, this.id) });
    });
  }
  stamper() {
    const hlc = this.hlc.tick();
    return (): Stamp => ({ hlc, origin: this.id, oseq: ++this.oseq });
  }
  vv(db: Db) {
    return db.rep.versionVector(this.oseq);
  }
}

function liveTags(db: Db, entity?: string, content?: string): string[] {
  return all<{ tag: string }>(
    db.sql,
    `SELECT tag FROM observations WHERE removed = 0 ${entity ? "AND entity = ?1" : ""} ${content ? "AND content = ?2" : ""}`,
    ...(entity ? [entity] : []),
    ...(content ? [content] : []),
  ).map((r) => r.tag);
}

const ENTITIES = ["a", "b", "c"];
const WORDS = ["red", "green", "blue"];

type Op =
  | { kind: "create"; r: number; e: string; type: string }
  | { kind: "add"; r: number; e: string; c: string }
  | { kind: "delObs"; r: number; e: string; c: string }
  | { kind: "delEntity"; r: number; e: string }
  | { kind: "relate"; r: number; from: string; to: string }
  | { kind: "unrelate"; r: number; from: string; to: string }
  | { kind: "context"; r: number; note: string }
  | { kind: "message"; r: number; text: string }
  | { kind: "pull"; r: number; from: number; limit: number; fate: "deliver" | "drop" | "duplicate" }
  | { kind: "tick"; ms: number };

const replica = fc.integer({ min: 0, max: 2 });
const entity = fc.constantFrom(...ENTITIES);
const word = fc.constantFrom(...WORDS);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("create" as const), r: replica, e: entity, type: word }),
  fc.record({ kind: fc.constant("add" as const), r: replica, e: entity, c: word }),
  fc.record({ kind: fc.constant("add" as const), r: replica, e: entity, c: word }),
  fc.record({ kind: fc.constant("delObs" as const), r: replica, e: entity, c: word }),
  fc.record({ kind: fc.constant("delEntity" as const), r: replica, e: entity }),
  fc.record({ kind: fc.constant("relate" as const), r: replica, from: entity, to: entity }),
  fc.record({ kind: fc.constant("unrelate" as const), r: replica, from: entity, to: entity }),
  fc.record({ kind: fc.constant("context" as const), r: replica, note: word }),
  fc.record({ kind: fc.constant("message" as const), r: replica, text: word }),
  fc.record({
    kind: fc.constant("pull" as const),
    r: replica,
    from: replica,
    limit: fc.integer({ min: 1, max: 6 }),
    fate: fc.constantFrom("deliver" as const, "drop" as const, "duplicate" as const),
  }),
  fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 3 }) }),
);

let run = 0;
function replicas(): { rs: Replica[]; advance: (ms: number) => void } {
  run++;
  let now = 1_700_000_000_000;
  const rs = ["cell-a", "cell-b", "cell-c"].map(
    (id) => new Replica(id, env.STATE.get(env.STATE.idFromName(`crdt-${run}-${id}`)), () => now),
  );
  return { rs, advance: (ms) => (now += ms) };
}

/** `to` pulls one page from `from`; answers the rows, so a test can deliver them again. */
async function pull(to: Replica, from: Replica, limit: number, deliver = true) {
  const theirs = await to.with((db) => to.vv(db));
  const { rows, more, vv } = await from.with((db) => ({ ...db.rep.changesSince(theirs, from.oseq, limit), vv: from.vv(db) }));
  if (deliver) {
    await apply(to, rows);
    if (!more) await to.with((db) => db.rep.mergeVector(vv));
  }
  return rows;
}

async function apply(to: Replica, rows: SyncRow[]): Promise<void> {
  for (const r of rows) {
    to.hlc.observe(r.h);
    if (r.o === to.id && r.s > to.oseq) to.oseq = r.s;
  }
  await to.with((db) => db.rep.apply(rows));
}

async function exec(
  rs: Replica[],
  advance: (ms: number) => void,
  o: Op,
  acknowledged: Set<string>,
  removedByDelete: Set<string>,
): Promise<void> {
  if (o.kind === "tick") return advance(o.ms);
  const r = rs[o.r]!;
  const ns = "default";
  if (o.kind === "pull") {
    if (o.r === o.from) return;
    const rows = await pull(r, rs[o.from]!, o.limit, o.fate !== "drop");
    if (o.fate === "duplicate") await apply(r, rows);
    return;
  }
  await r.with((db) => {
    switch (o.kind) {
      case "create":
        db.graph.createEntities({ namespace: ns, entities: [{ name: o.e, entityType: o.type, observations: [] }] }, r.stamper());
        return;
      case "add": {
        db.graph.createEntities({ namespace: ns, entities: [{ name: o.e, entityType: "thing", observations: [] }] }, r.stamper());
        const before = new Set(liveTags(db, o.e, o.c));
        db.graph.addObservations({ namespace: ns, observations: [{ entityName: o.e, contents: [o.c] }] }, r.stamper());
        for (const t of liveTags(db, o.e, o.c)) if (!before.has(t)) acknowledged.add(t);
        return;
      }
      case "delObs":
        if (!db.graph.namespaceExists(ns)) return;
        for (const t of liveTags(db, o.e, o.c)) removedByDelete.add(t);
        db.graph.deleteObservations({ namespace: ns, deletions: [{ entityName: o.e, observations: [o.c] }] }, r.stamper());
        return;
      case "delEntity":
        if (!db.graph.namespaceExists(ns)) return;
        for (const t of liveTags(db, o.e)) removedByDelete.add(t);
        db.graph.deleteEntities({ namespace: ns, entityNames: [o.e] }, r.stamper());
        return;
      case "relate":
        db.graph.createRelations({ namespace: ns, relations: [{ from: o.from, to: o.to, relationType: "knows" }] }, r.stamper());
        return;
      case "unrelate":
        if (!db.graph.namespaceExists(ns)) return;
        db.graph.deleteRelations({ namespace: ns, relations: [{ from: o.from, to: o.to, relationType: "knows" }] }, r.stamper());
        return;
      case "context":
        db.records.putContext(r.id, { note: o.note }, false, r.stamper()(), new Date(0));
        return;
      case "message":
        db.records.addMessage({ content: o.text, priority: "normal", metadata: {} }, r.id, r.stamper()(), new Date(0));
        return;
    }
  });
}

async function converge(rs: Replica[]): Promise<void> {
  for (let round = 0; round < 20; round++) {
    let moved = 0;
    for (const to of rs) for (const from of rs) if (to !== from) moved += (await pull(to, from, 7)).length;
    if (moved === 0) return;
  }
  throw new Error("did not converge in 20 rounds");
}

describe("CRDT merge", () => {
  it("three replicas converge to identical state under random interleavings, duplicates and drops, losing no acknowledged observation", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 50 }), async (ops) => {
        const { rs, advance } = replicas();
        const acknowledged = new Set<string>();
        const removed = new Set<string>();
        for (const o of ops) await exec(rs, advance, o, acknowledged, removed);
        await converge(rs);
        const views = await Promise.all(
          rs.map((r) =>
            r.with(async (db) => ({
              digest: await db.rep.contentDigest(),
              graph: JSON.stringify(db.graph.readGraph("default")),
              vv: r.vv(db),
              live: liveTags(db),
              // The search indexes follow replicated rows too: every word finds exactly the entities holding it.
              search: WORDS.map((w) => ({
                found: db.graph
                  .searchNodes({ namespace: "default", query: w, limit: 100 })
                  .entities.map((e) => e.name)
                  .sort(),
                holding: db.graph
                  .readGraph("default")
                  .entities.filter((e) => e.entityType.includes(w) || e.observations.some((o) => o.includes(w)))
                  .map((e) => e.name)
                  .sort(),
              })),
            })),
          ),
        );
        expect(new Set(views.map((v) => v.digest)).size).toBe(1);
        expect(new Set(views.map((v) => v.graph)).size).toBe(1);
        for (const v of views) expect(v.vv).toEqual(views[0]!.vv);
        for (const v of views) for (const s of v.search) expect(s.found).toEqual(s.holding);
        const live = new Set(views[0]!.live);
        for (const tag of acknowledged) if (!removed.has(tag)) expect(live.has(tag), `observation ${tag} was lost`).toBe(true);
      }),
      { numRuns: 30, seed: 20261124 },
    );
  }, 180_000);

  it("merging is idempotent and order-independent, and concurrent writers keep every observation", async () => {
    const { rs, advance } = replicas();
    const [a, b, c] = rs as [Replica, Replica, Replica];
    await a.with((db) =>
      db.graph.createEntities(
        { namespace: "default", entities: [{ name: "x", entityType: "one", observations: ["p", "q"] }] },
        a.stamper(),
      ),
    );
    advance(5);
    await b.with((db) =>
      db.graph.createEntities(
        { namespace: "default", entities: [{ name: "x", entityType: "two", observations: ["q", "r"] }] },
        b.stamper(),
      ),
    );
    const rowsA = await a.with((db) => db.rep.changesSince({}, a.oseq, 100).rows);
    const rowsB = await b.with((db) => db.rep.changesSince({}, b.oseq, 100).rows);
    await apply(c, [...rowsB, ...rowsA, ...rowsB]);
    await apply(a, rowsB);
    await apply(b, rowsA);
    await apply(b, rowsA);
    const graphs = await Promise.all(rs.map((r) => r.with((db) => db.graph.readGraph("default"))));
    expect(graphs[0]).toEqual(graphs[1]);
    expect(graphs[1]).toEqual(graphs[2]);
    // Last writer wins on the type; both sides' observations survive (a duplicate shown once).
    expect(graphs[0]!.entities).toEqual([{ name: "x", entityType: "two", observations: ["p", "q", "r"] }]);
    // open_nodes and search_nodes (their text is made by SQLite) show the same entity on every replica.
    for (const r of rs) {
      const [opened, found] = await r.with((db) => [
        JSON.parse(db.graph.openNodesJson({ namespace: "default", names: ["x"] })) as Graph,
        db.graph.searchNodes({ namespace: "default", query: "q", limit: 10 }),
      ]);
      expect(opened.entities).toEqual(graphs[0]!.entities);
      expect(found.entities).toEqual(graphs[0]!.entities);
    }
  });
});
