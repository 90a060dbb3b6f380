/** State end to end: persistence across restarts, concurrent writers, the generated token. */
import { statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { TestStack } from "../../harness/stack";

describe("consciousness store on a real stack", () => {
  it("generates the API token once, mode 0600, and keeps state across a restart", async () => {
    const first = await TestStack.start({ ip: "127.0.12.1", cellId: "persist" });
    const tokenFile = path.join(first.dir, "data", "api-token");
    const token = first.token;
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(first.output).toContain(tokenFile);
    expect(first.output).not.toContain(token);
    try {
      const r = await first.api("/memory/create_entities", {
        method: "POST",
        body: JSON.stringify({
          namespace: "p",
          entities: [{ name: "Durable", entityType: "fact", observations: ["survives restarts"] }],
        }),
      });
      expect(r.status).toBe(200);
      await first.api("/message", { method: "POST", body: JSON.stringify({ content: "still here" }) });
      await first.api("/context", { method: "PUT", body: JSON.stringify({ workspace: "ws" }) });
    } finally {
      expect(await first.stop()).toBe(0);
    }
    const second = await TestStack.start({ ip: "127.0.12.1", cellId: "persist", dir: first.dir });
    try {
      expect(second.token).toBe(token);
      const g = (await (await second.api("/memory/read_graph?namespace=p")).json()) as { entities: { observations: string[] }[] };
      expect(g.entities[0]!.observations).toEqual(["survives restarts"]);
      const m = (await (await second.api("/messages")).json()) as { total: number };
      expect(m.total).toBe(1);
      const c = (await (await second.api("/context")).json()) as { context: { context: { workspace: string } } };
      expect(c.context.context.workspace).toBe("ws");
    } finally {
      await second.stop();
    }
  });

  it("50 clients adding observations to one entity at once all land", async () => {
    const s = await TestStack.start({ ip: "127.0.12.2", env: { AIOS_API_TOKEN: "concurrency-token" } });
    try {
      await s.api("/memory/create_entities", {
        method: "POST",
        body: JSON.stringify({ entities: [{ name: "Hot", entityType: "t" }] }),
      });
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          s.api("/memory/add_observations", {
            method: "POST",
            body: JSON.stringify({ observations: [{ entityName: "Hot", contents: [`observation ${i}`] }] }),
          }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
      const g = (await (await s.api("/memory/open_nodes?name=Hot")).json()) as { entities: { observations: string[] }[] };
      expect(new Set(g.entities[0]!.observations)).toEqual(new Set(Array.from({ length: 50 }, (_, i) => `observation ${i}`)));
    } finally {
      await s.stop();
    }
  });
});
