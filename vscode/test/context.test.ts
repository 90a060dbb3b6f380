import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ContextSharer, contextOf, fileLabel, sameContext, type EditorFacts, type SharedContext } from "../src/context";

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

/** A context in workspace "proj" at one line of `file`. */
const ctx = (file: string, line = 1): SharedContext => ({
  workspace: "proj",
  file,
  language: "typescript",
  selection: { start_line: line, end_line: line },
});

describe("sharing the context", () => {
  let sent: (SharedContext | Record<string, never>)[];
  let fail: boolean;
  let sharer: ContextSharer;

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

describe("sharing the context while requests are under way, fail or other windows have the focus", () => {
  type Body = SharedContext | Record<string, never>;
  /** Every request, answered when the test says so. */
  let requests: { body: Body; answer: (ok: boolean, status?: number) => void }[];
  let sharer: ContextSharer;
  const bodies = () => requests.map((r) => r.body);
  const answerLast = async (ok: boolean, status?: number) => {
    requests.at(-1)!.answer(ok, status);
    await vi.advanceTimersByTimeAsync(0);
  };

  beforeEach(() => {
    vi.useFakeTimers();
    requests = [];
    sharer = new ContextSharer({
      send: (body) =>
        new Promise<void>((resolve, reject) => {
          requests.push({
            body,
            answer: (ok, status) => (ok ? resolve() : reject(Object.assign(new Error(`answered ${status}`), { status }))),
          });
        }),
      fileDelayMs: 100,
      selectionDelayMs: 1000,
      retryFirstMs: 1000,
      retryMaxMs: 4000,
      retryable: (e) => ((e as { status?: number }).status ?? 500) >= 500,
    });
  });
  afterEach(() => {
    sharer.dispose();
    vi.useRealTimers();
  });

  it("going back to a file while the switch away is still being sent ends with that file on the cell", async () => {
    sharer.update(ctx("p.ts"));
    await answerLast(true);
    await vi.advanceTimersByTimeAsync(200);
    sharer.update(ctx("a.ts")); // goes out at once, not answered yet
    await vi.advanceTimersByTimeAsync(0);
    sharer.update(ctx("p.ts")); // back before the answer
    await vi.advanceTimersByTimeAsync(500);
    expect(bodies()).toEqual([ctx("p.ts"), ctx("a.ts")]);
    await answerLast(true);
    await vi.advanceTimersByTimeAsync(500);
    expect(bodies()).toEqual([ctx("p.ts"), ctx("a.ts"), ctx("p.ts")]);
    await answerLast(true);
    await vi.advanceTimersByTimeAsync(5000);
    expect(requests).toHaveLength(3);
  });

  it("a change made while a request is under way goes out after its answer, without waiting for another change", async () => {
    sharer.update(ctx("a.ts"));
    await vi.advanceTimersByTimeAsync(200);
    sharer.update(ctx("a.ts", 5));
    await vi.advanceTimersByTimeAsync(2000); // its timer fired while a.ts was still unanswered
    expect(bodies()).toEqual([ctx("a.ts")]);
    await answerLast(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(bodies()).toEqual([ctx("a.ts"), ctx("a.ts", 5)]);
  });

  it("a request the bridge fails (5xx, timeout) is tried again after 1, 2, 4, 4 s until it succeeds", async () => {
    sharer.update(ctx("a.ts"));
    await answerLast(false, 503);
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      const before = requests.length;
      let waited = 0;
      while (requests.length === before && waited < 10_000) {
        await vi.advanceTimersByTimeAsync(100);
        waited += 100;
      }
      times.push(waited);
      await answerLast(i === 3, 500);
    }
    expect(times).toEqual([1000, 2000, 4000, 4000]);
    expect(bodies()).toEqual(Array(5).fill(ctx("a.ts")));
    await vi.advanceTimersByTimeAsync(20_000);
    expect(requests).toHaveLength(5);
  });

  it("a request the bridge refuses (4xx) is not tried again until the editor changes", async () => {
    sharer.update(ctx("a.ts"));
    await answerLast(false, 400);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(requests).toHaveLength(1);
    sharer.update(ctx("b.ts"));
    await vi.advanceTimersByTimeAsync(200);
    expect(bodies()).toEqual([ctx("a.ts"), ctx("b.ts")]);
  });

  it("turned off while the first context is still being sent, it clears the cell once that is answered", async () => {
    sharer.update(ctx("a.ts"));
    await vi.advanceTimersByTimeAsync(0);
    const off = sharer.setEnabled(false);
    await vi.advanceTimersByTimeAsync(500);
    expect(bodies()).toEqual([ctx("a.ts")]);
    await answerLast(true);
    expect(bodies()).toEqual([ctx("a.ts"), {}]);
    await answerLast(true);
    await off;
    sharer.update(ctx("b.ts"));
    await vi.advanceTimersByTimeAsync(5000);
    expect(requests).toHaveLength(2);
  });

  it("sends nothing while another window has the focus, and its own context again when it gets the focus back", async () => {
    sharer.update(ctx("a.ts"));
    await answerLast(true);
    sharer.update(ctx("a.ts", 7)); // a cursor move, waiting its turn …
    sharer.setFocused(false); // … when another window takes the focus: dropped, that window is the current one
    sharer.update(ctx("b.ts"));
    await vi.advanceTimersByTimeAsync(5000);
    expect(bodies()).toEqual([ctx("a.ts")]);
    // Back: the cell may show the other window's context now, so this one's goes out even if it was sent before.
    sharer.setFocused(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(bodies()).toEqual([ctx("a.ts"), ctx("b.ts")]);
    await answerLast(true);
    sharer.setFocused(false);
    sharer.setFocused(true);
    await vi.advanceTimersByTimeAsync(200);
    expect(bodies()).toEqual([ctx("a.ts"), ctx("b.ts"), ctx("b.ts")]);
  });

  it("getting the focus back while its own request is under way, it sends again after the answer", async () => {
    sharer.update(ctx("a.ts")); // under way …
    await vi.advanceTimersByTimeAsync(0);
    sharer.setFocused(false); // … while another window takes the focus and puts its own context on the cell
    sharer.setFocused(true);
    await answerLast(true); // a.ts arrived, but before or after the other window's? Not known: again.
    await vi.advanceTimersByTimeAsync(200);
    expect(bodies()).toEqual([ctx("a.ts"), ctx("a.ts")]);
    await answerLast(true);
    await vi.advanceTimersByTimeAsync(5000);
    expect(requests).toHaveLength(2);
  });

  it("sends nothing while paused (no usable bridge address), and the current context once resumed", async () => {
    sharer.setPaused(true);
    sharer.update(ctx("a.ts"));
    await vi.advanceTimersByTimeAsync(5000);
    expect(requests).toEqual([]);
    sharer.resend();
    sharer.setPaused(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(bodies()).toEqual([ctx("a.ts")]);
    // Once answered, it is the cell's copy: nothing goes out again.
    await answerLast(true);
    await vi.advanceTimersByTimeAsync(5000);
    expect(bodies()).toEqual([ctx("a.ts")]);
  });
});

describe("naming a file to other machines", () => {
  it("is its path in the workspace folder, or only its name outside any folder", () => {
    expect(fileLabel("src/main.ts", true)).toBe("src/main.ts");
    expect(fileLabel("/home/ann/secret/notes.md", false)).toBe("notes.md");
    expect(fileLabel("C:\\Users\\ann\\notes.md", false)).toBe("notes.md");
  });
});
