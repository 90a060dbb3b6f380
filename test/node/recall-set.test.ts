/** The recall benchmark's labelled set (bench/data/recall-set.json) and its checks (bench/recall-quality.ts). */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadSet, quality, sharedWords, type RecallSet } from "../../bench/recall-quality";

const root = path.resolve(__dirname, "..", "..");

describe("the labelled recall set", () => {
  const set = loadSet(root);

  it("holds at least 60 memories, each asked for once in paraphrase and once in natural words", () => {
    const names = set.memories.map((m) => m.name);
    expect(names.length).toBeGreaterThanOrEqual(60);
    expect(new Set(names).size).toBe(names.length);
    for (const questions of [set.questions, set.natural]) {
      expect(questions.map((q) => q.target).sort()).toEqual([...names].sort());
      expect(new Set(questions.map((q) => q.question)).size).toBe(questions.length);
    }
  });

  it("no paraphrase question shares a word with its target", () => {
    expect(sharedWords(set)).toEqual([]);
  });

  it("the check finds shared words: forms of one word, a word that begins another, a part of a CamelCase name", () => {
    const one = (question: string, observation: string): RecallSet => ({
      namespace: "t",
      memories: [{ name: "QuickBooksExport", entityType: "feature", observations: [observation] }],
      questions: [{ question, target: "QuickBooksExport" }],
      natural: [],
    });
    expect(sharedWords(one("Where do we keep invoicing rules?", "invoice rules live in docs"))).toEqual([
      { question: "Where do we keep invoicing rules?", words: ["invoicing", "rules", "invoic"] },
    ]);
    expect(sharedWords(one("What do the bookkeepers get?", "a CSV file"))[0]!.words).toEqual(["bookkeepers"]);
    expect(sharedWords(one("Which installers exist?", "install scripts"))[0]!.words).toContain("installers");
    expect(sharedWords(one("Which machine builds packages?", "a CSV file"))).toEqual([]);
  });

  it("recall@1, recall@5 and MRR count a target's rank, and a missing target as a miss", () => {
    expect(quality([1, 2, 6, undefined])).toEqual({ at1: 0.25, at5: 0.5, mrr: (1 + 1 / 2 + 1 / 6) / 4 });
  });
});
