import { describe, expect, it } from "vitest";
import { NAMESPACE_PATTERN, namespaceFromFolder, namespaceOf, observationOf } from "../src/remember";

describe("the namespace of Remember Selection and Recall", () => {
  it("made from the workspace folder's name, is one the memory takes", () => {
    const cases: [string, string][] = [
      ["aios", "aios"],
      ["My Project", "My-Project"],
      ["_scratch", "scratch"],
      [".dotfiles", "dotfiles"],
      ["Übungen", "Ubungen"],
      ["café & crème (v2)", "cafe-creme-v2"],
      ["a  --  b", "a-b"],
      ["node_modules..bak", "node_modules.bak"],
      ["日本語", "default"],
      ["---", "default"],
      ["", "default"],
    ];
    for (const [folder, ns] of cases) {
      expect(namespaceFromFolder(folder), folder).toBe(ns);
      expect(NAMESPACE_PATTERN.test(ns), ns).toBe(true);
    }
    const long = namespaceFromFolder(`${"x".repeat(63)} tail`);
    expect(long).toBe("x".repeat(63)); // cut to 64, and no '-' left dangling at the end
    expect(namespaceFromFolder("y".repeat(100))).toHaveLength(64);
  });

  it("is the setting when it is valid, else the folder's, else the memory's default", () => {
    expect(namespaceOf("  team.notes ", "My Project")).toEqual({ namespace: "team.notes" });
    expect(namespaceOf("", "My Project")).toEqual({ namespace: "My-Project" });
    expect(namespaceOf("  ", undefined)).toEqual({ namespace: undefined });
  });

  it("an invalid setting is refused up front, saying what is wrong and what would do", () => {
    const r = namespaceOf("My Notes", "proj");
    expect(r).toEqual({ error: expect.stringContaining('aios.namespace "My Notes" is not a valid namespace') });
    expect("error" in r && r.error).toMatch(/1-64 characters.*try "My-Notes"/);
    expect(namespaceOf("-x", "proj")).toHaveProperty("error");
    expect(namespaceOf("z".repeat(65), "proj")).toHaveProperty("error");
  });
});

describe("the observation", () => {
  it("is the selected text and where it came from", () => {
    expect(observationOf("\n  let x = 1;\n\n", "src/a.ts", 3, 4)).toBe("  let x = 1;\n(from src/a.ts:3-4)");
    expect(observationOf("x", "notes.md", 7, 7)).toBe("x\n(from notes.md:7)");
    expect(observationOf("x", undefined, 1, 1)).toBe("x");
  });
});
