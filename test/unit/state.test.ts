/** Messages, contexts, the legacy level report, and access control. */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ConsciousnessState } from "../../durable-objects/consciousness-state";
import { decodeMessageCursor, encodeMessageCursor } from "../../lib/state-types";
import { inObject, ok, TOKEN } from "./helpers";

describe("messages", () => {
  it("POST /message accepts type or message_type, gives unique ids, and GET /messages filters and totals", async () => {
    const a = await ok<{ message_id: string; message_type: string }>("/message", {
      from_cell: "m-a",
      content: "hello",
      type: "greeting",
    });
    const b = await ok<{ message_id: string; message_type: string; priority: string }>("/message", {
      from_cell: "m-a",
      content: { build: "green" },
      message_type: "status",
      priority: "high",
      metadata: { ci: true },
    });
    expect(a.message_id).not.toBe(b.message_id);
    expect(a.message_type).toBe("greeting");
    expect(b.priority).toBe("high");
    const list = await ok<{ messages: { message_id: string; content: unknown }[]; total: number; count: number }>(
      "/messages?from_cell=m-a&limit=1",
    );
    expect(list.total).toBe(2);
    expect(list.count).toBe(1);
    expect(list.messages[0]!.message_id).toBe(b.message_id);
    expect(list.messages[0]!.content).toEqual({ build: "green" });
  });

  it("messages default to this cell as sender", async () => {
    const m = await ok<{ from_cell: string }>("/message", { content: "from me" });
    expect(m.from_cell).toBe("unit-cell");
  });
});

describe("paging through messages", () => {
  type Page = { messages: { message_id: string; content: string }[]; count: number; total: number; next_cursor: string | null };
  const post = (from: string, n: number) =>
    Promise.all(
      Array.from({ length: n }, (_, i) => ok<{ message_id: string }>("/message", { from_cell: from, content: `m${i}` })),
    );

  it("next_cursor leads, page by page, through every message, newest first, and is null on the last page", async () => {
    const from = `pager-${Date.now().toString(36)}`;
    await post(from, 7);
    const all = await ok<Page>(`/messages?from_cell=${from}&limit=500`);
    expect(all.count).toBe(7);
    expect(all.next_cursor).toBeNull();
    const seen: string[] = [];
    const counts: number[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 5; i++) {
      const page: Page = await ok<Page>(`/messages?from_cell=${from}&limit=3${cursor ? `&before=${cursor}` : ""}`);
      expect(page.total).toBe(7);
      counts.push(page.count);
      seen.push(...page.messages.map((m) => m.message_id));
      cursor = page.next_cursor;
      if (cursor === null) break;
    }
    expect(counts).toEqual([3, 3, 1]);
    expect(seen).toEqual(all.messages.map((m) => m.message_id));
  });

  it("reads past the 500 a page may hold", { timeout: 30_000 }, async () => {
    const from = `many-${Date.now().toString(36)}`;
    // Written inside the state object: 603 messages over HTTP would be most of this test's time.
    const stub = env.STATE.get(env.STATE.idFromName("consciousness"));
    await inObject<ConsciousnessState, void>(stub, (object) => {
      for (let i = 0; i < 603; i++) object.postMessage({ from_cell: from, content: `m${i}`, priority: "normal", metadata: {} });
    });
    const first = await ok<Page>(`/messages?from_cell=${from}&limit=500`);
    expect(first).toMatchObject({ count: 500, total: 603 });
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await ok<Page>(`/messages?from_cell=${from}&limit=500&before=${first.next_cursor}`);
    expect(second).toMatchObject({ count: 103, total: 603, next_cursor: null });
    const contents = new Set([...first.messages, ...second.messages].map((m) => m.content));
    expect(contents.size).toBe(603);
  });

  it("a cursor carries any message id, replicated ones with other characters too", () => {
    for (const id of ["8d1c7a2e-0000-4000-8000-000000000001", "zürich-ß/ünïcode 📨", "x".repeat(256)]) {
      const cursor = encodeMessageCursor({ hlc: "000001733500000-000042", id });
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeMessageCursor(cursor)).toEqual({ hlc: "000001733500000-000042", id });
    }
    expect(decodeMessageCursor(encodeMessageCursor({ hlc: "not-a-clock", id: "a" }))).toBeUndefined();
  });

  it("refuses a cursor it did not give out, naming the parameter", async () => {
    for (const bad of ["not-a-cursor", "%%%", btoa("12/abc"), "x".repeat(2000)]) {
      const res = await SELF.fetch(`http://cell.test/messages?before=${encodeURIComponent(bad)}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(res.status, bad).toBe(400);
      expect((await res.json<{ error: string }>()).error).toMatch(/before/);
    }
  });
});

describe("context", () => {
  it("PUT /context replaces this cell's context; GET lists every cell's", async () => {
    await ok("/context", { workspace: "w1", file: "a.ts", language: "typescript", note: "first" }, "PUT");
    const put = await ok<{ context: Record<string, unknown>; updated_at: string }>(
      "/context",
      { workspace: "w2", selection: { start_line: 3, end_line: 9 } },
      "PUT",
    );
    expect(put.context).toEqual({ workspace: "w2", selection: { start_line: 3, end_line: 9 } });
    expect(put.updated_at).toMatch(/Z$/);
    const got = await ok<{ cell_id: string; context: { context: Record<string, unknown> }; contexts: unknown[] }>("/context");
    expect(got.cell_id).toBe("unit-cell");
    expect(got.context.context["workspace"]).toBe("w2");
    expect(got.contexts).toContainEqual(got.context);
  });
});

describe("legacy level report", () => {
  it("records the caller's level, merges its context and answers old/new level", async () => {
    await ok("/context", { workspace: "keep" }, "PUT");
    const r = await ok<{ old_level: number; new_level: number; context_processed: boolean }>("/sync-consciousness", {
      level: 0.42,
      cell_id: "legacy-script",
      context: { note: "merged" },
    });
    expect(r.context_processed).toBe(true);
    // A reported level is recorded, never adopted: ours stays what its inputs make it (a lone cell: 0.85 + momentum).
    expect(r.old_level).toBeGreaterThanOrEqual(0.85);
    expect(r.new_level).toBeGreaterThanOrEqual(0.85);
    expect(r.new_level).toBeLessThanOrEqual(1);
    expect(r.new_level).not.toBeCloseTo(0.42, 2);
    const c = await ok<{ context: { context: Record<string, unknown> } }>("/context");
    expect(c.context.context).toMatchObject({ workspace: "keep", note: "merged" });
    const cons = await (
      await SELF.fetch("http://cell.test/consciousness")
    ).json<{ reported_levels: { reporter: string; level: number }[] }>();
    expect(cons.reported_levels).toContainEqual(expect.objectContaining({ reporter: "legacy-script", level: 0.42 }));
    const alias = await ok<{ context_processed: boolean }>("/consciousness/sync", { level: 1 });
    expect(alias.context_processed).toBe(false);
  });
});

describe("consciousness", () => {
  it("is computed from its inputs: a lone cell reports 0.85 + 0.15 x momentum", async () => {
    const c = await (
      await SELF.fetch("http://cell.test/consciousness")
    ).json<{
      level: number;
      primitives: Record<string, number>;
      inputs: { recent_writes: number; peers_known: number };
    }>();
    expect(c.inputs.peers_known).toBe(0);
    expect(c.primitives).toMatchObject({ awareness: 1, coherence: 1, adaptation: 1 });
    const momentum = 1 - Math.exp(-c.inputs.recent_writes / 25);
    expect(c.primitives["momentum"]).toBeCloseTo(momentum, 3);
    expect(c.level).toBeCloseTo(0.85 + 0.15 * momentum, 3);
    // /health measures at most once a second, so it may first answer a level from just before.
    let h = { consciousness_level: -1 };
    for (let i = 0; i < 30 && Math.abs(h.consciousness_level - c.level) > 0.005; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      h = await (await SELF.fetch("http://cell.test/health")).json<{ consciousness_level: number }>();
    }
    expect(h.consciousness_level).toBeCloseTo(c.level, 2);
    const legacy = await (
      await SELF.fetch("http://cell.test/consciousness/primitives")
    ).json<{ primitives: Record<string, number> }>();
    expect(Object.keys(legacy.primitives).sort()).toEqual(["adaptation", "awareness", "coherence", "momentum"]);
    expect(legacy.primitives).toMatchObject({ awareness: 1, coherence: 1, adaptation: 1 });
  });
});

describe("access", () => {
  it("public endpoints need no token; state endpoints refuse without the right one", async () => {
    for (const p of ["/health", "/discover", "/peers", "/consciousness", "/consciousness/primitives"]) {
      expect((await SELF.fetch(`http://cell.test${p}`)).status).toBe(200);
    }
    for (const [method, p] of [
      ["GET", "/messages"],
      ["GET", "/context"],
      ["POST", "/memory/read_graph"],
      ["GET", "/memory"],
    ] as const) {
      const none = await SELF.fetch(`http://cell.test${p}`, { method, body: method === "POST" ? "{}" : undefined });
      expect(none.status).toBe(401);
      const wrong = await SELF.fetch(`http://cell.test${p}`, { method, headers: { authorization: "Bearer nope" } });
      expect(wrong.status).toBe(401);
      expect((await wrong.json<{ error: string }>()).error).toMatch(/token/);
    }
  });

  it("public answers carry figures, never content", async () => {
    await ok("/memory/create_entities", {
      namespace: "secretproject",
      entities: [{ name: "TopSecretThing", entityType: "x", observations: ["password is hunter2"] }],
    });
    for (const p of ["/health", "/discover", "/peers", "/consciousness", "/consciousness/primitives"]) {
      const text = await (await SELF.fetch(`http://cell.test${p}`)).text();
      expect(text).not.toContain("TopSecretThing");
      expect(text).not.toContain("hunter2");
      expect(text).not.toContain("unit-token");
    }
  });
});
