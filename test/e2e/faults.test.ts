/** Faults, short form (issue 8): kill -9 during writes, and a launcher killed alone. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { TestStack, sleep } from "../helpers/stack";

const ENV = { AIOS_API_TOKEN: "fault-token" };

describe("faults", () => {
  it("kill -9 of a stack during a stream of writes: after a restart every acknowledged write is there", async () => {
    const s = await TestStack.start({ ip: "127.0.47.1", cellId: "crashy", env: ENV });
    await s.api("/memory/create_entities", {
      method: "POST",
      body: JSON.stringify({ entities: [{ name: "Log", entityType: "stream" }] }),
    });
    const acknowledged: string[] = [];
    let stop = false;
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; !stop && i < 5000; i++) {
        const content = `w${w}-${i}`;
        try {
          const r = await s.api("/memory/add_observations", {
            method: "POST",
            body: JSON.stringify({ observations: [{ entityName: "Log", contents: [content] }] }),
          });
          if (r.status === 200) acknowledged.push(content);
        } catch {
          return;
        }
      }
    });
    await sleep(1500);
    await s.kill9();
    stop = true;
    await Promise.all(writers);
    expect(acknowledged.length).toBeGreaterThan(20);
    const again = await TestStack.start({ ip: "127.0.47.1", cellId: "crashy", dir: s.dir, env: ENV });
    try {
      const g = (await (await again.api("/memory/open_nodes?name=Log")).json()) as { entities: { observations: string[] }[] };
      const present = new Set(g.entities[0]!.observations);
      const lost = acknowledged.filter((c) => !present.has(c));
      expect(lost, `${lost.length} of ${acknowledged.length} acknowledged writes lost`).toEqual([]);
    } finally {
      await again.stop();
    }
  });

  it("a launcher killed alone leaves its runtime behind; the next start stops it and starts cleanly", async () => {
    const s = await TestStack.start({ ip: "127.0.47.2", cellId: "orphan", env: ENV });
    const record = JSON.parse(readFileSync(path.join(s.dir, "data", "runtime.json"), "utf8")) as { runtime: number };
    try {
      s.child.kill("SIGKILL");
      await s.exit();
      // The runtime still answers on the ports, without its launcher.
      expect((await fetch(s.url("cell", "/health"))).status).toBe(200);
      const next = await TestStack.start({ ip: "127.0.47.2", cellId: "orphan", dir: s.dir, env: ENV });
      try {
        expect(next.output).toContain("stopped the runtime a killed launcher left behind");
        expect((await next.json("cell", "/health"))["status"]).toBe("healthy");
      } finally {
        await next.stop();
      }
    } finally {
      // Whatever happened above, never leave the runtime we started running.
      try {
        if (readFileSync(`/proc/${record.runtime}/cmdline`, "utf8").includes("workerd")) process.kill(record.runtime, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
});
