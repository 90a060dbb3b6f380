import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ContextSharer, contextOf, sameContext, type EditorFacts, type SharedContext } from "../src/context";

const facts = (over: Partial<EditorFacts> = {}): EditorFacts => ({
  scheme: "file",
  folderName: "proj",
  relativePath: "src/main.ts",
  languageId: "typescript",
  selectionStartLine: 4,
  selectionEndLine: 4,
  selectionEndsAtLineStart: false,
  selectionEmpty: true,
  ...over,
});

describe("the context of an editor", () => {
  it("is the folder, the path relative to it, the language and 1-based lines; never content", () => {
    expect(contextOf(facts())).toEqual({
      workspace: "proj",
      file: "src/main.ts",
      language: "typescript",
      selection: { start_line: 5, end_line: 5 },
    });
  });

  it("a selection that ends at the start of a line does not count that line", () => {
    const c = contextOf(
      facts({ selectionStartLine: 2, selectionEndLine: 6, selectionEndsAtLineStart: true, selectionEmpty: false }),
    );
    expect(c?.selection).toEqual({ start_line: 3, end_line: 6 });
  });

  it("outside any workspace folder only the file's name is shared, not its absolute path", () => {
    const { folderName: _none, ...rest } = facts();
    const c = contextOf({ ...rest, relativePath: "/home/ann/secret-project/notes.md", languageId: "markdown" });
    expect(c).toEqual({ file: "notes.md", language: "markdown", selection: { start_line: 5, end_line: 5 } });
  });

  it("panels and other non-file documents are not shared", () => {
    expect(contextOf(facts({ scheme: "output" }))).toBeUndefined();
    expect(contextOf(facts({ scheme: "vscode-settings" }))).toBeUndefined();
    expect(contextOf(undefined)).toBeUndefined();
  });
});

describe("sharing the context", () => {
  let sent: (SharedContext | Record<string, never>)[];
  let fail: boolean;
  let sharer: ContextSharer;
  const ctx = (file: string, line = 1): SharedContext => ({
    workspace: "proj",
    file,
    language: "typescript",
    selection: { start_line: line, end_line: line },
  });

  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    fail = false;
    sharer = new ContextSharer({
      send: async (c) => {
        if (fail) throw new Error("connection refused");
        sent.push(c);
      },
      fileDelayMs: 100,
      selectionDelayMs: 1000,
    });
  });
  afterEach(() => {
    sharer.dispose();
    vi.useRealTimers();
  });

  it("a new file goes out at once; a burst of switches after it is sent once, as its last state", async () => {
    sharer.update(ctx("a.ts"));
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual([ctx("a.ts")]);
    sharer.update(ctx("b.ts"));
    sharer.update(ctx("c.ts", 7));
    await vi.advanceTimersByTimeAsync(99);
    expect(sent).toEqual([ctx("a.ts")]);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toEqual([ctx("a.ts"), ctx("c.ts", 7)]);
    // A quiet spell later, the next switch goes out at once again.
    await vi.advanceTimersByTimeAsync(100);
    sharer.update(ctx("d.ts"));
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual([ctx("a.ts"), ctx("c.ts", 7), ctx("d.ts")]);
  });

  it("nothing is sent when nothing changed", async () => {
    sharer.update(ctx("a.ts"));
    await vi.advanceTimersByTimeAsync(100);
    sharer.update(ctx("a.ts"));
    sharer.update(undefined); // a panel took focus: still on a.ts
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent).toHaveLength(1);
  });

  it("a new file goes out quickly; cursor moves within a file wait longer, and going back cancels them", async () => {
    sharer.update(ctx("a.ts", 1));
    await vi.advanceTimersByTimeAsync(100);
    sharer.update(ctx("a.ts", 2));
    await vi.advanceTimersByTimeAsync(500);
    expect(sent).toHaveLength(1);
    sharer.update(ctx("a.ts", 1)); // back where the cell has it: nothing to send
    await vi.advanceTimersByTimeAsync(2000);
    expect(sent).toHaveLength(1);
    sharer.update(ctx("a.ts", 9));
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent).toEqual([ctx("a.ts", 1), ctx("a.ts", 9)]);
  });

  it("a failed send is not forgotten: it goes out when the stack is back", async () => {
    fail = true;
    sharer.update(ctx("a.ts"));
    await vi.advanceTimersByTimeAsync(100);
    expect(sent).toEqual([]);
    fail = false;
    sharer.resend();
    await vi.advanceTimersByTimeAsync(100);
    expect(sent).toEqual([ctx("a.ts")]);
  });

  it("turned off, it sends nothing and clears what it shared; turned on, it shares the current editor", async () => {
    sharer.update(ctx("a.ts"));
    await vi.advanceTimersByTimeAsync(100);
    await sharer.setEnabled(false);
    sharer.update(ctx("b.ts"));
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent).toEqual([ctx("a.ts"), {}]);
    await sharer.setEnabled(true);
    await vi.advanceTimersByTimeAsync(100);
    expect(sent).toEqual([ctx("a.ts"), {}, ctx("b.ts")]);
  });

  it("turned off before anything was shared, it sends nothing at all", async () => {
    await sharer.setEnabled(false);
    sharer.update(ctx("a.ts"));
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent).toEqual([]);
  });

  it("compares every field", () => {
    expect(sameContext(ctx("a.ts"), ctx("a.ts"))).toBe(true);
    expect(sameContext(ctx("a.ts"), { ...ctx("a.ts"), language: "javascript" })).toBe(false);
    expect(sameContext(ctx("a.ts"), { ...ctx("a.ts"), workspace: "other" })).toBe(false);
    expect(sameContext(ctx("a.ts"), undefined)).toBe(false);
  });
});
