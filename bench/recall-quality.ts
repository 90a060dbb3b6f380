/**
 * Recall's quality (part of `npm run bench -- recall`), on bench/data/recall-set.json: memories of an
 * invoicing SaaS and two sets of questions, one a memory:
 *   - "paraphrase": no question shares a content word with its target (checked here, endings folded
 *     and a word that begins another counted as the same), so only meaning can find it;
 *   - "natural": asked as a user would type them, words shared or not.
 * Figures: recall@1, recall@5 and MRR of the stack's three modes on each set, and, computed in Node
 * with the same model (its vectors equal the built-in embedder's: checked here too) and the same
 * fusion code (lib/embed/fusion.ts), the constructions that were compared to choose it.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { entityText, observationText } from "../durable-objects/consciousness/entity-texts";
import { entityScore, holds, hybridScores, queryWords, textWords, type Candidate } from "../lib/embed/fusion";
import { dot, fuseRanks, normalize } from "../lib/embed/vector";
import type { NodeModel } from "../harness/embed-server";
import { bundleEmbedder, freePort, startEmbedder } from "../launcher/embedder";
import type { Figure } from "./stats";

interface Question {
  question: string;
  target: string;
}
export interface RecallSet {
  namespace: string;
  memories: { name: string; entityType: string; observations: string[] }[];
  questions: Question[];
  natural: Question[];
}

export const QUESTION_SETS = { paraphrase: "questions", natural: "natural" } as const;
export type SetName = keyof typeof QUESTION_SETS;
export const MODES = ["keyword", "semantic", "hybrid"] as const;
export type Mode = (typeof MODES)[number];

export function loadSet(root: string): RecallSet {
  return JSON.parse(readFileSync(path.join(root, "bench", "data", "recall-set.json"), "utf8")) as RecallSet;
}

const STOP = new Set(
  "a an and are as at be by can do does for from get gets how in into is it its of on or out so some that the their them then there these they this to up we what when where which who why will with our us after before about over under all any each every other than too very one two own not no".split(
    " ",
  ),
);
const fold = (w: string) => (w.length > 4 ? w.replace(/(ing|ed|es|s)$/, "") : w);

/**
 * The paraphrase questions' words found in their target memory (name split at CamelCase, type,
 * observations): must be none. Two words are the same when they fold to one (plain endings), when one
 * begins the other (4 letters at least: "invoice", "invoicing"), or when recall's word signal would
 * match them (its stems match by prefix).
 */
export function sharedWords(set: RecallSet): { question: string; words: string[] }[] {
  const out: { question: string; words: string[] }[] = [];
  for (const q of set.questions) {
    const m = set.memories.find((x) => x.name === q.target)!;
    const target = [...textWords(`${m.name} ${m.entityType} ${m.observations.join(" ")}`)];
    const same = (w: string) =>
      target.some((t) => {
        const [a, b] = [fold(w), fold(t)];
        const [short, long] = a.length <= b.length ? [a, b] : [b, a];
        return a === b || (short.length >= 4 && long.startsWith(short));
      });
    const words = (q.question.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => !STOP.has(w) && same(w));
    const stems = queryWords(q.question)
      .filter((t) => target.some((w) => (t.prefix ? w.startsWith(t.word) : w === t.word)))
      .map((t) => t.word);
    const shared = [...new Set([...words, ...stems])];
    if (shared.length) out.push({ question: q.question, words: shared });
  }
  return out;
}

export interface Quality {
  at1: number;
  at5: number;
  mrr: number;
}

export function quality(ranks: (number | undefined)[]): Quality {
  const n = ranks.length;
  return {
    at1: ranks.filter((r) => r === 1).length / n,
    at5: ranks.filter((r) => r !== undefined && r <= 5).length / n,
    mrr: ranks.reduce<number>((s, r) => s + (r ? 1 / r : 0), 0) / n,
  };
}

export const rankOf = (list: readonly string[], target: string) => {
  const i = list.indexOf(target);
  return i < 0 ? undefined : i + 1;
};

const byScore = <K>(m: Map<K, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([k]) => k);

/** The stack's answers: for each question set and mode, the names recall returned (limit 10), per question. */
export async function stackAnswers(
  set: RecallSet,
  recallNames: (query: string, mode: Mode) => Promise<string[]>,
): Promise<Record<SetName, Record<Mode, string[][]>>> {
  const out = {} as Record<SetName, Record<Mode, string[][]>>;
  for (const [name, key] of Object.entries(QUESTION_SETS) as [SetName, keyof RecallSet][]) {
    const lists: Record<Mode, string[][]> = { keyword: [], semantic: [], hybrid: [] };
    for (const q of set[key] as Question[]) {
      for (const mode of MODES) lists[mode].push(await recallNames(q.question, mode));
    }
    out[name] = lists;
  }
  return out;
}

/** Vectors of the set in Node: an entity's, each observation's (with its entity) and each question's, unit length. */
export async function setVectors(set: RecallSet, model: NodeModel) {
  const embedAll = async (texts: string[]) => {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += 32) out.push(...(await model.embed(texts.slice(i, i + 32))).map((v) => normalize(v)));
    return out;
  };
  const entities = await embedAll(set.memories.map((m) => entityText(m.name, m.entityType, m.observations)));
  const owners = set.memories.flatMap((m) => m.observations.map(() => m.name));
  const observations = await embedAll(set.memories.flatMap((m) => m.observations.map((o) => observationText(m.name, o))));
  const questions: Record<SetName, Float32Array[]> = {
    paraphrase: await embedAll(set.questions.map((q) => q.question)),
    natural: await embedAll(set.natural.map((q) => q.question)),
  };
  return { entities, observations, owners, questions };
}

/**
 * The constructions compared, computed in Node with the stack's keyword lists: how memories become
 * vectors (entity, observations, both by max or by mean) and how the signals fuse (reciprocal rank
 * fusion, the chosen weighed share of words). Each: question set -> quality.
 */
export function variants(
  set: RecallSet,
  vectors: Awaited<ReturnType<typeof setVectors>>,
  keyword: Record<SetName, string[][]>,
): [string, Record<SetName, Quality>][] {
  const names = set.memories.map((m) => m.name);
  const words = new Map(set.memories.map((m) => [m.name, textWords(`${m.name} ${m.entityType} ${m.observations.join(" ")}`)]));
  const rows: [string, Record<SetName, Quality>][] = [];
  const measure = (label: string, rank: (q: Float32Array, question: string, kw: string[]) => string[]) => {
    const r = {} as Record<SetName, Quality>;
    for (const [s, key] of Object.entries(QUESTION_SETS) as [SetName, keyof RecallSet][]) {
      const qs = set[key] as Question[];
      r[s] = quality(qs.map((q, i) => rankOf(rank(vectors.questions[s][i]!, q.question, keyword[s][i]!), q.target)));
    }
    rows.push([label, r]);
  };
  const parts = (q: Float32Array) => {
    const own = new Map(names.map((n, i) => [n, dot(q, vectors.entities[i]!)]));
    const best = new Map<string, number>();
    vectors.observations.forEach((v, i) => {
      const n = vectors.owners[i]!;
      best.set(n, Math.max(best.get(n) ?? -1, dot(q, v)));
    });
    return { own, best };
  };
  const mean = (q: Float32Array) => {
    const { own, best } = parts(q);
    return new Map(names.map((n) => [n, entityScore(own.get(n), best.get(n))!]));
  };
  measure("semantic: one vector an entity (name, type, observations)", (q) => byScore(parts(q).own));
  measure("semantic: one vector an observation, an entity by its best", (q) => byScore(parts(q).best));
  measure("semantic: both, an entity by the better one", (q) => {
    const { own, best } = parts(q);
    return byScore(new Map(names.map((n) => [n, Math.max(own.get(n)!, best.get(n) ?? -1)])));
  });
  measure("semantic: both, an entity by their mean (chosen)", (q) => byScore(mean(q)));
  measure("hybrid, before: best-of semantic + 0.1 x share of words (keyword hits)", (q, text, kw) => {
    const { own, best } = parts(q);
    const terms = queryWords(text);
    return byScore(
      new Map(
        names.map((n) => {
          const held = kw.includes(n) && terms.length ? terms.filter((t) => holds(words.get(n)!, t)).length / terms.length : 0;
          return [n, Math.max(own.get(n)!, best.get(n) ?? -1) + 0.1 * held];
        }),
      ),
    );
  });
  measure("hybrid: reciprocal rank fusion (k = 60) of keyword and semantic", (q, _t, kw) =>
    byScore(fuseRanks([byScore(mean(q)).slice(0, 30), kw])),
  );
  measure("hybrid: semantic + 0.3 x weighed share of words (chosen)", (q, text, kw) => {
    const sem = mean(q);
    const top = byScore(sem).slice(0, 30);
    const floor = sem.get(top[top.length - 1]!)!;
    const candidates = new Map<string, Candidate>(
      [...new Set([...top, ...kw])].map((n) => [n, { semantic: top.includes(n) ? sem.get(n)! : floor, words: words.get(n)! }]),
    );
    return byScore(new Map([...hybridScores(candidates, queryWords(text))].map(([n, h]) => [n, h.score])));
  });
  return rows;
}

/** The figures of the stack's quality: each set and mode, the targets on the paraphrase set. */
export function qualityFigures(stack: Record<SetName, Record<Mode, Quality>>): Figure[] {
  const figures: Figure[] = [];
  for (const s of Object.keys(QUESTION_SETS) as SetName[]) {
    for (const m of MODES) {
      const q = stack[s][m];
      const targets = s === "paraphrase" && m === "hybrid";
      figures.push({
        figure: `recall@1, ${m}, ${s} questions`,
        value: q.at1,
        unit: "",
        ...(targets ? { target: ">= 0.5", met: q.at1 >= 0.5 } : {}),
      });
      figures.push({
        figure: `recall@5, ${m}, ${s} questions`,
        value: q.at5,
        unit: "",
        ...(targets ? { target: ">= 0.85", met: q.at5 >= 0.85 } : {}),
      });
      figures.push({ figure: `MRR, ${m}, ${s} questions`, value: q.mrr, unit: "" });
    }
    const best = Math.max(stack[s].keyword.mrr, stack[s].semantic.mrr);
    figures.push({
      figure: `hybrid MRR against the best single signal, ${s} questions`,
      value: stack[s].hybrid.mrr,
      unit: "",
      reference: "best of keyword and semantic",
      referenceValue: best,
      ratio: stack[s].hybrid.mrr / best,
      target: "hybrid beats its best single signal",
      met: stack[s].hybrid.mrr > best,
    });
  }
  return figures;
}

export function printQuality(
  set: RecallSet,
  stack: Record<SetName, Record<Mode, Quality>>,
  offline: [string, Record<SetName, Quality>][],
): void {
  const cell = (q: Quality) => `${q.at1.toFixed(2)}  ${q.at5.toFixed(2)}  ${q.mrr.toFixed(2)}`;
  console.log(
    `\nrecall quality: ${set.memories.length} memories, ${set.questions.length} paraphrase and ${set.natural.length} natural questions`,
  );
  console.log(`  ${"".padEnd(70)} paraphrase R@1 R@5 MRR   natural R@1 R@5 MRR`);
  const row = (label: string, r: Record<SetName, Quality>) =>
    console.log(`  ${label.padEnd(70)} ${cell(r.paraphrase).padStart(20)}   ${cell(r.natural).padStart(17)}`);
  for (const m of MODES) row(`stack: ${m}`, { paraphrase: stack.paraphrase[m], natural: stack.natural[m] });
  for (const [label, r] of offline) row(`offline: ${label}`, r);
}

/** The set's keyword lists in the format `variants` takes (the stack's keyword mode's answers). */
export const keywordLists = (answers: Record<SetName, Record<Mode, string[][]>>): Record<SetName, string[][]> => ({
  paraphrase: answers.paraphrase.keyword,
  natural: answers.natural.keyword,
});

/**
 * The smallest cosine between the built-in embedder's vectors (its own workerd, as the stack runs it)
 * and Node's for the same texts: about 1 when the stack's model is the one measured here.
 */
export async function embedderAgreement(root: string, scratch: string, texts: string[], model: NodeModel): Promise<number> {
  const output: string[] = [];
  const runtime = startEmbedder(await bundleEmbedder(root, scratch), "127.0.0.1", await freePort("127.0.0.1"), (out, err) => {
    for (const s of [out, err]) s.on("data", (d: Buffer) => output.push(d.toString()));
  });
  try {
    await runtime.ready;
    let least = 1;
    for (let i = 0; i < texts.length; i += 32) {
      const batch = texts.slice(i, i + 32);
      const res = await fetch(`${runtime.url}/v1/embeddings`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ input: batch }),
      });
      if (!res.ok) throw new Error(`the built-in embedder answered ${res.status}: ${await res.text()}`);
      const body = (await res.json()) as { data: { embedding: number[] }[] };
      const mine = await model.embed(batch);
      body.data.forEach((d, j) => (least = Math.min(least, dot(normalize(d.embedding), normalize(mine[j]!)))));
    }
    return least;
  } catch (e) {
    throw new Error(`the built-in embedder failed: ${(e as Error).message}; its output: ${output.join("").slice(-2000)}`);
  } finally {
    await runtime.dispose();
  }
}
