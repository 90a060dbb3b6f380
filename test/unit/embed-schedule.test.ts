/**
 * The built-in embedder's sharing of its one model: texts cut into short runs of like lengths, and
 * turns at the model that a query takes before the backlog's next run.
 */
import { describe, expect, it } from "vitest";
import { RUN_CHARS, RUN_TEXTS, runsOf, Turns } from "../../workers/embed/schedule";

describe("runs of the model", () => {
  it("cover every text once, shortest first, within the characters and texts of a run", () => {
    const texts = Array.from({ length: 90 }, (_, i) => "x".repeat((i * 37) % 200));
    const runs = runsOf(texts);
    expect(runs.flat().sort((a, b) => a - b)).toEqual(texts.map((_, i) => i));
    const lengths = runs.flat().map((i) => texts[i]!.length);
    expect(lengths).toEqual([...lengths].sort((a, b) => a - b));
    for (const run of runs) {
      expect(run.length).toBeLessThanOrEqual(RUN_TEXTS);
      if (run.length > 1) expect(run.reduce((n, i) => n + texts[i]!.length, 0)).toBeLessThanOrEqual(RUN_CHARS);
    }
  });
  it("a text longer than a run runs alone, and empty texts are counted", () => {
    const runs = runsOf(["a".repeat(RUN_CHARS * 2), "", "b"]);
    expect(runs).toEqual([[1, 2], [0]]);
    expect(runsOf(Array.from({ length: RUN_TEXTS + 1 }, () => ""))).toHaveLength(2);
  });
});

describe("turns at the model", () => {
  it("one run at a time; a waiting query goes before the backlog's runs, each kind in arrival order", async () => {
    const turns = new Turns();
    const order: string[] = [];
    let running = 0;
    const job = (name: string) => async () => {
      running++;
      expect(running).toBe(1);
      await new Promise((r) => setTimeout(r, 5));
      order.push(name);
      running--;
      return name;
    };
    const first = turns.take(job("backlog-1"), false);
    const rest = [
      turns.take(job("backlog-2"), false),
      turns.take(job("backlog-3"), false),
      turns.take(job("query-1"), true),
      turns.take(job("query-2"), true),
    ];
    expect(await first).toBe("backlog-1");
    await Promise.all(rest);
    expect(order).toEqual(["backlog-1", "query-1", "query-2", "backlog-2", "backlog-3"]);
  });
  it("a failed run passes the turn on", async () => {
    const turns = new Turns();
    const failed = turns.take(() => Promise.reject(new Error("model failed")), false);
    const next = turns.take(() => Promise.resolve("ok"), true);
    await expect(failed).rejects.toThrow("model failed");
    expect(await next).toBe("ok");
    expect(await turns.take(() => Promise.resolve("free"), false)).toBe("free");
  });
});
