/**
 * The built-in embedder's sharing of its one model: texts cut into short runs of like lengths, and
 * turns at the model that a query takes before the backlog's next run.
 */
import { describe, expect, it } from "vitest";
import { AFTER_QUERY_MS, MAX_DEFER_MS, QUERY_GAP_MS, RUN_CHARS, RUN_TEXTS, Runs, Turns } from "../../workers/embed/schedule";

const runsOf = (texts: string[], maxChars?: number) => {
  const runs = new Runs(texts);
  const out: number[][] = [];
  for (let run = runs.next(maxChars); run; run = runs.next(maxChars)) out.push(run);
  return out;
};

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
    // A budget of one character: one text a run.
    expect(runsOf(["ccc", "a", "bb"], 1)).toEqual([[1], [2], [0]]);
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
  it("the backlog waits until no query was answered for a moment: a query asked again finds the model free", async () => {
    const turns = new Turns();
    const order: string[] = [];
    const job =
      (name: string, ms = 2) =>
      () =>
        new Promise<void>((r) => setTimeout(r, ms)).then(() => void order.push(name));
    await turns.take(job("query-1"), true);
    const answered = Date.now();
    const backlog = turns.take(job("backlog"), false);
    // The agent's next question, a few milliseconds after the answer.
    await new Promise((r) => setTimeout(r, 10));
    await turns.take(job("query-2"), true);
    await backlog;
    expect(order).toEqual(["query-1", "query-2", "backlog"]);
    expect(Date.now() - answered).toBeGreaterThanOrEqual(QUERY_GAP_MS);
  });
  it("queries without a pause hold the backlog back for a bounded time only", async () => {
    const turns = new Turns();
    let backlogDone = 0;
    await turns.take(() => Promise.resolve(), true);
    const started = Date.now();
    const backlog = turns.take(() => Promise.resolve(), false).then(() => (backlogDone = Date.now()));
    // A query every few milliseconds, until the backlog's run went through.
    for (let i = 0; i < 1000 && !backlogDone; i++) {
      await new Promise((r) => setTimeout(r, 5));
      await turns.take(() => Promise.resolve(), true);
    }
    // It went through while the queries went on (they would have gone on for at least 5 s).
    expect(backlogDone).toBeGreaterThan(0);
    await backlog;
    expect(backlogDone - started).toBeGreaterThanOrEqual(MAX_DEFER_MS);
  });
  it("for a while after a query, the backlog's runs hold one text", async () => {
    const turns = new Turns();
    const now = Date.now();
    expect(turns.backlogRun(now)).toBe(RUN_CHARS);
    await turns.take(() => Promise.resolve(), false);
    expect(turns.backlogRun()).toBe(RUN_CHARS);
    await turns.take(() => Promise.resolve(), true);
    expect(turns.backlogRun()).toBe(1);
    expect(turns.backlogRun(Date.now() + AFTER_QUERY_MS + 1)).toBe(RUN_CHARS);
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
