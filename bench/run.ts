/** `npm run bench [name…]` (its own entry of bin/aios.mjs): runs the benchmarks and prints their figures. */
import { benchAnalyser } from "./analyser";
import { benchDiscovery } from "./discovery";
import { benchHttp } from "./http";
import { benchIdle } from "./idle";
import { benchMcp } from "./mcp";
import { benchMetrics } from "./metrics";
import { benchRelay } from "./relay";
import { benchScale } from "./scale";
import { benchSimulate } from "./simulate";
import { benchStartup } from "./startup";
import { benchRecall } from "./recall";
import { benchStore } from "./store";
import { benchSync } from "./sync";
import { writeResults, type Figure } from "./stats";
import { useRunScratch } from "../harness/scratch";

const BENCHES: Record<string, (root: string) => Promise<Figure[]>> = {
  startup: benchStartup,
  store: benchStore,
  discovery: benchDiscovery,
  sync: benchSync,
  analyser: benchAnalyser,
  mcp: benchMcp,
  metrics: benchMetrics,
  simulate: benchSimulate,
  scale: benchScale,
  http: benchHttp,
  idle: benchIdle,
  relay: benchRelay,
  // Recall by meaning: quality on bench/data/recall-set.json, speed and memory with the built-in model.
  recall: benchRecall,
};

/** The entry bin/aios.mjs calls for `aios bench …`. */
export function main(argv: string[], root: string): Promise<number> {
  return runBench(root, argv.slice(1));
}

export async function runBench(root: string, names: string[]): Promise<number> {
  const chosen = names.length ? names : Object.keys(BENCHES);
  const unknown = chosen.find((name) => !BENCHES[name]);
  if (unknown !== undefined) {
    console.error(`aios: unknown benchmark "${unknown}"; benchmarks: ${Object.keys(BENCHES).join(", ")}`);
    return 2;
  }
  // Temporary files of the run (stacks, references, the runtimes' scratch) in one folder, removed at the end.
  const removeScratch = useRunScratch();
  try {
    for (const name of chosen) await BENCHES[name]!(root);
  } finally {
    removeScratch();
  }
  writeResults(root);
  console.log("\nbench/RESULTS.md updated");
  return 0;
}
