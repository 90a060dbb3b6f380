/**
 * Deterministic memory workloads shared by the store and MCP benchmarks.
 * Observations are sentences drawn from a synthetic 20,000-word vocabulary
 * with a Zipf-like skew (a few words are everywhere, most are rare), as in
 * real notes; a query is one vocabulary word, like "jwt" or "postgres".
 */
const SYLLABLES = [..."bcdfghjklmnprstvwxyz"].flatMap((c) => [..."aeiou"].map((v) => c + v));
const VOCABULARY = Array.from({ length: 20_000 }, (_, i) => {
  let w = "";
  for (let n = i + 1; n > 0; n = Math.floor(n / SYLLABLES.length)) w += SYLLABLES[n % SYLLABLES.length];
  return w;
});

/** Mulberry32: a small seeded PRNG, so every run sees the same data. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const zipfWord = (r: () => number) => VOCABULARY[Math.floor(VOCABULARY.length * Math.pow(r(), 3))]!;

export function sentence(seed: number, words = 10): string {
  const r = rng(seed);
  return Array.from({ length: words }, () => zipfWord(r)).join(" ");
}

export function entities(count: number, observationsEach: number, offset = 0) {
  return Array.from({ length: count }, (_, i) => {
    const n = i + offset;
    return {
      name: `entity-${n}`,
      entityType: `type-${n % 50}`,
      observations: Array.from({ length: observationsEach }, (_, j) => sentence(n * 101 + j)),
    };
  });
}

/** One vocabulary word, uniformly: mostly rare words, sometimes common ones. */
export const searchQuery = (i: number) => VOCABULARY[Math.floor(rng(9_000_000 + i)() * VOCABULARY.length)]!;

/** Runs `count` tasks with at most `concurrency` in flight; returns each task's latency in ms. */
export async function pool(count: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = new Array<number>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const t = performance.now();
        await task(i);
        latencies[i] = performance.now() - t;
      }
    }),
  );
  return latencies;
}
