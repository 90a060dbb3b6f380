/**
 * Messages by meaning: every message gets a vector in the memories' backlog (after its write, and
 * again after a restart if it has none), in a namespace of the index that no graph namespace can be;
 * /messages/recall finds the nearest, or the newest holding a word of the query without an embedder.
 * The embedder is a bag of hashed words, so texts that share words have near vectors.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { queueMessages } from "../../durable-objects/consciousness/embed-queue";
import { EmbedBacklog } from "../../durable-objects/consciousness/embeddings";
import { GraphStore, type Stamp } from "../../durable-objects/consciousness/graph";
import { messageText, MESSAGES_NS } from "../../durable-objects/consciousness/entity-texts";
import { recallMessages } from "../../durable-objects/consciousness/message-recall";
import { RecordStore } from "../../durable-objects/consciousness/records";
import { indexPending } from "../../durable-objects/consciousness/search";
import { MessageRecallSchema } from "../../lib/message-recall-types";
import { call, ok } from "./helpers";
import { bagOfWords, bagSpec, hashWords } from "./bag-of-words";

const spec = bagSpec();

let objects = 0;
function withState<T>(
  fn: (sql: SqlStorage, records: RecordStore, stamp: () => Stamp, tx: <R>(f: () => R) => R) => Promise<T> | T,
): Promise<T> {
  const stub = env.STATE.get(env.STATE.idFromName(`message-recall-${objects++}`));
  let oseq = 0;
  const stamp = (): Stamp => ({ hlc: `0017000000000${String(++oseq).padStart(3, "0")}-000000`, origin: "t", oseq });
  return runInDurableObject(stub, (_i, state) =>
    fn(state.storage.sql, new RecordStore(state.storage.sql), stamp, (f) => state.storage.transactionSync(f)),
  );
}

const MESSAGES = [
  { content: "the nightly backup of the billing database failed twice", type: "status" },
  { content: { text: "please review the macos signing keys before friday", ticket: "OPS-12" }, type: "question" },
  { content: "lunch is at noon", type: "note" },
];

async function drain(backlog: EmbedBacklog): Promise<number> {
  let total = 0;
  for (let i = 0; i < 50 && (i === 0 || backlog.pending() > 0); i++) total += await backlog.runBatch(spec, 4);
  return total;
}

const ask = (query: string, limit = 5) => MessageRecallSchema.parse({ query, limit });

describe("messages by meaning", () => {
  it("a message's text is its type and its text values (an object's strings, not its keys)", () => {
    expect(messageText("status", JSON.stringify("build is green"))).toBe("status: build is green");
    expect(messageText("question", JSON.stringify({ text: "who signs?", tags: ["macos", "keys"], n: 3 }))).toBe(
      "question: who signs?. macos. keys",
    );
    expect(messageText("data", JSON.stringify({ n: 3 }))).toBe('data: {"n":3}');
    expect(messageText("note", JSON.stringify("x".repeat(5000))).length).toBe(1200);
  });

  it("are queued after their write, embedded with the memories, and found by meaning apart from them", async () => {
    await withState(async (sql, records, stamp, tx) => {
      const backlog = new EmbedBacklog(sql, tx, bagOfWords);
      for (const m of MESSAGES)
        records.addMessage({ content: m.content, type: m.type, priority: "normal", metadata: {} }, "a", stamp(), new Date());
      new GraphStore(sql).createEntities(
        { namespace: "p", entities: [{ name: "Backup", entityType: "job", observations: ["nightly backup of the database"] }] },
        stamp,
      );
      indexPending(sql);
      queueMessages(sql);
      expect(backlog.pending()).toBe(3 + 2);
      // Queued once: a second look finds nothing new.
      queueMessages(sql);
      expect(backlog.pending()).toBe(5);
      expect(await drain(backlog)).toBe(5);

      const answer = await recallMessages(sql, backlog, spec, ask("did the nightly database backup fail", 2));
      expect(answer.fallback).toBeUndefined();
      expect(answer.results).toHaveLength(2);
      expect(JSON.parse(answer.results[0]!.content)).toBe(MESSAGES[0]!.content);
      expect(answer.results[0]!.score).toBeGreaterThan(answer.results[1]!.score);
      const keys = await recallMessages(sql, backlog, spec, ask("signing keys for macos"));
      expect(JSON.parse(keys.results[0]!.content)).toEqual(MESSAGES[1]!.content);

      // The memories' namespace never holds a message, nor the messages' one a memory.
      const index = backlog.vectors(spec.id)!;
      const q = hashWords("nightly backup database");
      expect(index.nearest(q, "p", 10).every((n) => n.id > 0)).toBe(true);
      expect(index.nearest(q, MESSAGES_NS, 10).every((n) => n.id < 0)).toBe(true);
      expect(backlog.status(spec)).toMatchObject({ pending: 0, done: 5 });
    });
  });

  it("messages of an older store, and any whose vector was lost, are embedded after a restart", async () => {
    await withState(async (sql, records, stamp, tx) => {
      for (const m of MESSAGES)
        records.addMessage({ content: m.content, type: m.type, priority: "normal", metadata: {} }, "a", stamp(), new Date());
      // Never queued (written before messages had vectors): the next start finds them.
      expect(await drain(new EmbedBacklog(sql, tx, bagOfWords))).toBe(3);
      sql.exec("DELETE FROM vectors WHERE id = (SELECT min(id) FROM vectors)");
      expect(await drain(new EmbedBacklog(sql, tx, bagOfWords))).toBe(1);
    });
  });

  it("without an embedder: the newest messages holding a word of the query, with the reason", async () => {
    await withState(async (sql, records, stamp, tx) => {
      for (const m of MESSAGES)
        records.addMessage({ content: m.content, type: m.type, priority: "normal", metadata: {} }, "a", stamp(), new Date());
      const off = new EmbedBacklog(sql, tx, bagOfWords);
      const answer = await recallMessages(sql, off, { kind: "off", reason: "turned off (AIOS_EMBED=off)" }, ask("when is lunch"));
      expect(answer).toMatchObject({ fallback: true, reason: "no embedder: turned off (AIOS_EMBED=off)", model: null });
      expect(answer.results.map((r) => JSON.parse(r.content) as unknown)).toEqual(["lunch is at noon"]);
    });
  });
});

describe("messages by meaning over REST", () => {
  it("refuses an empty or malformed request with a 400 naming the field, and needs the token", async () => {
    for (const [body, field] of [
      [{ query: "" }, "query"],
      [{}, "query"],
      [{ query: "x".repeat(1001) }, "query"],
      [{ query: "ok", limit: 0 }, "limit"],
      [{ query: "ok", limit: "many" }, "limit"],
    ] as const) {
      const r = await call("/messages/recall", body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(((await r.json()) as { error: string }).error).toContain(field);
    }
    const { SELF } = await import("cloudflare:test");
    expect((await SELF.fetch("http://cell.test/messages/recall?query=x")).status).toBe(401);
  });

  it("answers messages in the API's shape (GET and POST)", async () => {
    const word = `zebra${Date.now().toString(36)}`;
    await ok("/messages", { content: `the ${word} deploy is done`, type: "status" });
    const post = await ok<{ results: { content: unknown; message_type: string; score: number }[]; fallback: boolean }>(
      "/messages/recall",
      { query: `${word} deploy` },
    );
    expect(post.fallback).toBe(true);
    expect(post.results[0]).toMatchObject({ content: `the ${word} deploy is done`, message_type: "status", score: 0 });
    const get = await ok<{ results: unknown[] }>(`/messages/recall?query=${word}&limit=1`);
    expect(get.results).toHaveLength(1);
  });
});
