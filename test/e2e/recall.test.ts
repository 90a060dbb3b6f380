/**
 * Recall by meaning on real stacks (127.0.61.x). Two cells with the built-in model: a memory
 * written on one is recalled by meaning on the other (vectors are made on each replica, never
 * sent). One cell with a remote OpenAI-compatible embedder (a real server in this process, serving
 * the same model from Node): batched requests with the key, the key in no log or answer, and
 * answers from the word index with the reason when that embedder fails or answers vectors of the
 * wrong size, while writes go on.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbedServer, type EmbedServer } from "../../harness/embed-server";
import { TestStack, until } from "../../harness/stack";
import { TEXTS_VERSION } from "../../durable-objects/consciousness/entity-texts";

const ENV = { AIOS_CLUSTER_SECRET: "recall-secret", AIOS_API_TOKEN: "recall-token", AIOS_EMBED: "builtin" };
const KEY = "sk-recall-test-key-0123456789";

interface Answer {
  results: { name: string; signals: string[]; observations: string[] }[];
  fallback?: boolean;
  reason?: string;
  model: string | null;
}
interface Status {
  state: string;
  pending: number;
  done: number;
  model: string | null;
  last_error: string | null;
}

/** Two stacks each run a second workerd (the built-in model's): on a busy machine they take longer to be ready. */
async function started(opts: Parameters<typeof TestStack.start>[0]): Promise<TestStack> {
  const s = await TestStack.start({ ...opts, waitReady: false });
  try {
    await s.ready(120_000);
  } catch (e) {
    await s.stop().catch(() => undefined);
    throw e;
  }
  return s;
}

const recall = async (s: TestStack, body: Record<string, unknown>) =>
  (await (await s.api("/memory/recall", { method: "POST", body: JSON.stringify(body) })).json()) as Answer;
const status = async (s: TestStack) => (await (await s.api("/memory/recall/status")).json()) as Status;
const embedded = (s: TestStack, atLeast: number, timeoutMs = 60_000) =>
  until(
    async () => {
      const st = await status(s);
      return st.pending === 0 && st.done >= atLeast && st;
    },
    timeoutMs,
    200,
  );

const MEMORIES = [
  { name: "ReleaseRunner", entityType: "build host", observations: ["the macOS signing host that produces the .dmg packages"] },
  { name: "PostgresPrimary", entityType: "database", observations: ["stores customer accounts; nightly backups go to S3"] },
  { name: "OnCallRotation", entityType: "process", observations: ["weekly rotation between five backend engineers"] },
];

describe("recall with the built-in model on two cells", () => {
  let a: TestStack, b: TestStack;
  beforeAll(async () => {
    [a, b] = await Promise.all([
      started({ ip: "127.0.61.1", cellId: "ra", env: { ...ENV, AIOS_NETWORK_PEERS: "127.0.61.2" } }),
      started({ ip: "127.0.61.2", cellId: "rb", env: ENV }),
    ]);
  }, 150_000);
  afterAll(async () => {
    await Promise.all([a, b].map((s) => s?.stop()));
  });

  it("a memory written on one cell is recalled by meaning on the other", async () => {
    await a.memory("create_entities", { namespace: "proj", entities: MEMORIES });
    await until(
      async () =>
        ((await (await b.api("/memory/read_graph?namespace=proj")).json()) as { entities: unknown[] }).entities.length === 3,
      20_000,
    );
    const st = await embedded(b, 6);
    expect(st.model).toMatch(/^builtin:/);
    const answer = await recall(b, {
      query: "which machine creates installers for Apple computers?",
      namespace: "proj",
      limit: 3,
    });
    expect(answer.fallback).toBeUndefined();
    expect(answer.results[0]!.name).toBe("ReleaseRunner");
    expect(answer.results[0]!.signals).toContain("semantic");
    const semantic = await recall(b, {
      query: "how is duty shared among the team",
      namespace: "proj",
      mode: "semantic",
      limit: 1,
    });
    expect(semantic.results.map((r) => r.name)).toEqual(["OnCallRotation"]);
  });

  it("the backlog's progress is in the metrics", async () => {
    const text = await (await fetch(b.url("metrics", "/metrics"))).text();
    expect(text).toMatch(/aios_embed_pending\{cell_id="rb"\} 0/);
    expect(text).toMatch(/aios_embed_vectors\{cell_id="rb",model="builtin:[^"]+"\} [1-9]/);
  });
});

describe("recall with a remote OpenAI-compatible embedder", () => {
  let server: EmbedServer;
  let s: TestStack;
  beforeAll(async () => {
    server = await startEmbedServer("127.0.61.3", KEY);
    s = await started({
      ip: "127.0.61.4",
      cellId: "rc",
      env: {
        ...ENV,
        AIOS_EMBED_URL: `${server.url}/v1`,
        AIOS_EMBED_MODEL: "use-lite",
        AIOS_EMBED_API_KEY: KEY,
        AIOS_EMBED_TIMEOUT_MS: "20000",
      },
    });
  }, 150_000);
  afterAll(async () => {
    await s?.stop();
    await server?.close();
  });

  it("embeds in batches with the key, recalls by meaning, and never shows the key", async () => {
    const many = Array.from({ length: 40 }, (_, i) => ({
      name: `Note${i}`,
      entityType: "note",
      observations: [`filler note number ${i}`],
    }));
    await s.memory("create_entities", { namespace: "proj", entities: [...MEMORIES, ...many] });
    const st = await embedded(s, 86);
    expect(st.model).toBe(`remote:use-lite#texts${TEXTS_VERSION}`);
    expect(server.requests.every((r) => r.authorization === `Bearer ${KEY}`)).toBe(true);
    expect(Math.max(...server.requests.map((r) => r.texts))).toBeGreaterThan(1);
    const answer = await recall(s, {
      query: "where do we keep client records and their safety copies?",
      namespace: "proj",
      limit: 3,
    });
    expect(answer.results[0]!.name).toBe("PostgresPrimary");
    const logs = readdirSync(path.join(s.dir, "logs")).map((f) => readFileSync(path.join(s.dir, "logs", f), "utf8"));
    for (const text of [s.output, ...logs, JSON.stringify(answer), JSON.stringify(await status(s))])
      expect(text).not.toContain(KEY);
  });

  it("when the embedder fails, recall answers from words with the reason, and writes do not wait", async () => {
    server.mode = "fail";
    const t = Date.now();
    await s.memory("add_observations", {
      namespace: "proj",
      observations: [{ entityName: "OnCallRotation", contents: ["pager escalates after 15 minutes"] }],
    });
    expect(Date.now() - t).toBeLessThan(1000);
    const answer = await recall(s, { query: "pager escalation", namespace: "proj" });
    expect(answer.fallback).toBe(true);
    expect(answer.reason).toContain("503");
    expect(answer.results.map((r) => r.name)).toEqual(["OnCallRotation"]);
    const st = await until(async () => {
      const x = await status(s);
      return x.state === "failing" && x;
    }, 10_000);
    expect(st.pending).toBeGreaterThan(0);
    expect(st.last_error).toContain("503");
  });

  it("vectors of the wrong size and a slow embedder are refused with the reason", async () => {
    server.mode = "wrong-size";
    const wrong = await recall(s, { query: "who is on call", namespace: "proj" });
    expect(wrong).toMatchObject({ fallback: true });
    expect(wrong.reason).toMatch(/100 dimensions, expected 512/);
    server.mode = "slow";
    const slow = await recall(s, { query: "who is on call", namespace: "proj" });
    expect(slow).toMatchObject({ fallback: true });
    // A query waits at most 5 s for its embedding, whatever the backlog's timeout.
    expect(slow.reason).toMatch(/within 5000 ms/);
    server.mode = "ok";
  });
});
