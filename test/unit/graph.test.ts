/** The nine memory operations with the reference server's semantics, over REST. */
import { describe, expect, it } from "vitest";
import { call, freshNamespace, ok } from "./helpers";

interface Graph {
  entities: { name: string; entityType: string; observations: string[] }[];
  relations: { from: string; to: string; relationType: string }[];
}

async function seed(ns: string) {
  await ok("/memory/create_entities", {
    namespace: ns,
    entities: [
      { name: "Alice", entityType: "person", observations: ["likes coffee", "works on the auth service"] },
      { name: "Bob", entityType: "person", observations: ["prefers tea"] },
      { name: "AuthService", entityType: "service", observations: ["uses JWT"] },
    ],
  });
  await ok("/memory/create_relations", {
    namespace: ns,
    relations: [
      { from: "Alice", to: "AuthService", relationType: "maintains" },
      { from: "Bob", to: "Alice", relationType: "reviews for" },
    ],
  });
}

describe("knowledge graph", () => {
  it("create_entities skips existing names and returns only the new ones", async () => {
    const ns = freshNamespace();
    await seed(ns);
    const r = await ok<{ entities: { name: string }[] }>("/memory/create_entities", {
      namespace: ns,
      entities: [
        { name: "Alice", entityType: "robot", observations: [] },
        { name: "Carol", entityType: "person", observations: ["new"] },
      ],
    });
    expect(r.entities.map((e) => e.name)).toEqual(["Carol"]);
    const g = await ok<Graph>(`/memory/read_graph?namespace=${ns}`);
    expect(g.entities.find((e) => e.name === "Alice")?.entityType).toBe("person");
  });

  it("create_relations skips duplicates", async () => {
    const ns = freshNamespace();
    await seed(ns);
    const r = await ok<{ relations: unknown[] }>("/memory/create_relations", {
      namespace: ns,
      relations: [
        { from: "Alice", to: "AuthService", relationType: "maintains" },
        { from: "AuthService", to: "Bob", relationType: "pages" },
      ],
    });
    expect(r.relations).toEqual([{ from: "AuthService", to: "Bob", relationType: "pages" }]);
  });

  it("add_observations skips duplicates and refuses an unknown entity without changing anything", async () => {
    const ns = freshNamespace();
    await seed(ns);
    const r = await ok<{ results: unknown[] }>("/memory/add_observations", {
      namespace: ns,
      observations: [{ entityName: "Bob", contents: ["prefers tea", "plays chess", "plays chess"] }],
    });
    expect(r.results).toEqual([{ entityName: "Bob", addedObservations: ["plays chess"] }]);
    const bad = await call("/memory/add_observations", {
      namespace: ns,
      observations: [
        { entityName: "Bob", contents: ["should not land"] },
        { entityName: "Nobody", contents: ["x"] },
      ],
    });
    expect(bad.status).toBe(404);
    expect((await bad.json<{ error: string }>()).error).toBe("Entity with name Nobody not found");
    const g = await ok<Graph>(`/memory/open_nodes?namespace=${ns}&name=Bob`);
    expect(g.entities[0]!.observations).toEqual(["prefers tea", "plays chess"]);
  });

  it("delete_entities cascades to relations", async () => {
    const ns = freshNamespace();
    await seed(ns);
    await ok("/memory/delete_entities", { namespace: ns, entityNames: ["Alice"] });
    const g = await ok<Graph>(`/memory/read_graph?namespace=${ns}`);
    expect(g.entities.map((e) => e.name).sort()).toEqual(["AuthService", "Bob"]);
    expect(g.relations).toEqual([]);
  });

  it("delete_observations and delete_relations remove just what they name", async () => {
    const ns = freshNamespace();
    await seed(ns);
    await ok("/memory/delete_observations", {
      namespace: ns,
      deletions: [{ entityName: "Alice", observations: ["likes coffee", "not there"] }],
    });
    await ok("/memory/delete_relations", {
      namespace: ns,
      relations: [{ from: "Bob", to: "Alice", relationType: "reviews for" }],
    });
    const g = await ok<Graph>(`/memory/read_graph?namespace=${ns}`);
    expect(g.entities.find((e) => e.name === "Alice")!.observations).toEqual(["works on the auth service"]);
    expect(g.relations).toEqual([{ from: "Alice", to: "AuthService", relationType: "maintains" }]);
  });

  it("deletes of what does not exist succeed silently and change nothing, in a namespace never written too", async () => {
    const written = freshNamespace();
    await seed(written);
    const before = await ok<Graph>(`/memory/read_graph?namespace=${written}`);
    for (const ns of [written, freshNamespace(), "default"]) {
      const entities = await call("/memory/delete_entities", { namespace: ns, entityNames: ["Nobody"] });
      expect(entities.status, ns).toBe(200);
      expect(await entities.json()).toMatchObject({ success: true, deleted: [] });
      const observations = await call("/memory/delete_observations", {
        namespace: ns,
        deletions: [{ entityName: "Nobody", observations: ["never said"] }],
      });
      expect(observations.status, ns).toBe(200);
      expect(await observations.json()).toMatchObject({ success: true, removed: 0 });
      const relations = await call("/memory/delete_relations", {
        namespace: ns,
        relations: [{ from: "Nobody", to: "Alice", relationType: "knows" }],
      });
      expect(relations.status, ns).toBe(200);
      expect(await relations.json()).toMatchObject({ success: true, removed: 0 });
    }
    expect(await ok<Graph>(`/memory/read_graph?namespace=${written}`)).toEqual(before);
  });

  it("search_nodes matches names, types and observation text, case-insensitively, with relations touching them", async () => {
    const ns = freshNamespace();
    await seed(ns);
    const byObs = await ok<Graph>(`/memory/search_nodes?namespace=${ns}&query=COFFEE`);
    expect(byObs.entities.map((e) => e.name)).toEqual(["Alice"]);
    expect(byObs.relations).toHaveLength(2);
    const byType = await ok<Graph>("/memory/search_nodes", { namespace: ns, query: "servic" });
    expect(byType.entities.map((e) => e.name).sort()).toEqual(["Alice", "AuthService"]);
    const short = await ok<Graph>(`/memory/search_nodes?namespace=${ns}&query=Bo`);
    expect(short.entities.map((e) => e.name)).toEqual(["Bob"]);
    const limited = await ok<Graph>(`/memory/search_nodes?namespace=${ns}&query=person&limit=1`);
    expect(limited.entities).toHaveLength(1);
  });

  it("ranks better matches first (bm25)", async () => {
    const ns = freshNamespace();
    await ok("/memory/create_entities", {
      namespace: ns,
      entities: [
        {
          name: "Once",
          entityType: "note",
          observations: ["a long observation that mentions deploy once among many other words here"],
        },
        { name: "Often", entityType: "note", observations: ["deploy deploy deploy"] },
      ],
    });
    const r = await ok<{ ranked: { name: string }[] }>(`/memory/search_nodes?namespace=${ns}&query=deploy`);
    expect(r.ranked.map((x) => x.name)).toEqual(["Often", "Once"]);
  });

  it("open_nodes returns the named entities and the relations touching them", async () => {
    const ns = freshNamespace();
    await seed(ns);
    const g = await ok<Graph>("/memory/open_nodes", { namespace: ns, names: ["AuthService", "Missing"] });
    expect(g.entities.map((e) => e.name)).toEqual(["AuthService"]);
    expect(g.relations).toEqual([{ from: "Alice", to: "AuthService", relationType: "maintains" }]);
  });

  it("namespaces keep projects apart", async () => {
    const a = freshNamespace();
    const b = freshNamespace();
    await seed(a);
    expect((await ok<Graph>(`/memory/read_graph?namespace=${b}`)).entities).toEqual([]);
    expect((await ok<Graph>(`/memory/search_nodes?namespace=${b}&query=alice`)).entities).toEqual([]);
    const spaces = await ok<{ namespaces: string[] }>("/memory");
    expect(spaces.namespaces).toContain(a);
    expect(spaces.namespaces).not.toContain(b);
  });

  it("keeps observations in the order they were added, past nine in one request (regression: tags sorted as text)", async () => {
    const ns = freshNamespace();
    const contents = Array.from({ length: 150 }, (_, i) => `o${i}`);
    await ok("/memory/create_entities", { namespace: ns, entities: [{ name: "Many", entityType: "t", observations: contents }] });
    const g = await ok<Graph>(`/memory/open_nodes?namespace=${ns}&name=Many`);
    expect(g.entities[0]!.observations).toEqual(contents);
  });

  it("a deleted entity can be created again, without its old observations", async () => {
    const ns = freshNamespace();
    await seed(ns);
    await ok("/memory/delete_entities", { namespace: ns, entityNames: ["Bob"] });
    await ok("/memory/create_entities", {
      namespace: ns,
      entities: [{ name: "Bob", entityType: "person", observations: ["is back"] }],
    });
    const g = await ok<Graph>(`/memory/open_nodes?namespace=${ns}&name=Bob`);
    expect(g.entities[0]!.observations).toEqual(["is back"]);
    expect((await ok<Graph>(`/memory/search_nodes?namespace=${ns}&query=tea`)).entities).toEqual([]);
  });
});
