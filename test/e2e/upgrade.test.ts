/**
 * A data folder written by an earlier version opens in this one with nothing lost. The fixture is a
 * `./data` written by the version that ran workerd through Miniflare (cell `old-cell`): two
 * namespaces of entities, a relation, a deleted observation, a context and a message. This version
 * runs workerd directly, with the same storage layout and object ids.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestStack } from "../../harness/stack";

const FIXTURE = path.resolve(import.meta.dirname, "../fixtures/data-miniflare-runtime.tgz");

type Graph = { entities: { name: string; entityType: string; observations: string[] }[]; relations: unknown[] };

describe("a data folder written by the Miniflare-based version", () => {
  let stack: TestStack;

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "aios-upgrade-"));
    execFileSync("tar", ["xzf", FIXTURE, "-C", dir]);
    stack = await TestStack.start({
      ip: "127.0.90.1",
      cellId: "old-cell",
      dir,
      env: { AIOS_API_TOKEN: "old-token", AIOS_EMBED: "off" },
    });
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it("opens with every memory, relation, deletion, context and message", async () => {
    const graph = (await (await stack.api("/memory/read_graph")).json()) as Graph;
    expect(graph.entities).toEqual(
      [
        { type: "entity", name: "Desktop", entityType: "machine", observations: ["builds the installers"] },
        { type: "entity", name: "Laptop", entityType: "machine", observations: ["travels"] },
      ].map(({ type: _type, ...e }) => expect.objectContaining(e)),
    );
    expect(graph.relations).toEqual([expect.objectContaining({ from: "Laptop", to: "Desktop", relationType: "syncs with" })]);
    const myapp = (await (await stack.api("/memory/read_graph?namespace=myapp")).json()) as Graph;
    expect(myapp.entities).toEqual([expect.objectContaining({ name: "AuthService", observations: ["issues JWTs"] })]);

    const context = (await (await stack.api("/context")).json()) as { context: Record<string, unknown> };
    expect(context.context).toMatchObject({
      cell_id: "old-cell",
      context: { workspace: "myapp", file: "src/auth.ts", language: "typescript" },
    });
    const messages = (await (await stack.api("/messages")).json()) as { messages: { content: string }[] };
    expect(messages.messages.map((m) => m.content)).toEqual(["hello from the old version"]);
  });

  it("keeps writing to the same objects", async () => {
    await stack.memory("add_observations", { observations: [{ entityName: "Laptop", contents: ["upgraded"] }] });
    const laptop = (await (await stack.api("/memory/open_nodes?name=Laptop")).json()) as Graph;
    expect(laptop.entities[0]!.observations).toEqual(["travels", "upgraded"]);
  });
});
