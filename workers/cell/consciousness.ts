/** Gathers the measured inputs of the consciousness level and computes it. */
import {
  computeLevel,
  computePrimitives,
  levelInputs,
  MOMENTUM_WINDOW_SECONDS,
  SYNC_HALF_LIFE_SECONDS,
  WEIGHTS,
  MOMENTUM_SCALE,
  type LevelInputs,
  type Primitives,
} from "../../lib/consciousness";
import { tryRpc, type Peer, type PeerSummary } from "../../lib/rpc";
import type { Pulse, StateStats } from "../../durable-objects/consciousness-state";
import { state, type CellEnv } from "./env";

export interface LevelReport<P extends Pulse = Pulse> {
  level: number;
  primitives: Primitives;
  inputs: LevelInputs & { peers_source: "discovery" | "unavailable" };
  /** What the state object told: the pulse, or the full stats. */
  stats: P;
  peers: PeerSummary | undefined;
  /** Discovery's peer list, when it answered. */
  list: Peer[] | undefined;
}

async function gather<P extends Pulse>(env: CellEnv, read: Promise<P>): Promise<LevelReport<P>> {
  const [stats, list] = await Promise.all([read, env.DISCOVERY ? tryRpc(() => env.DISCOVERY!.peers()) : undefined]);
  const peers = list && summarize(list);
  const inputs: LevelReport["inputs"] = {
    ...levelInputs(list, stats.sync, stats.recent_writes),
    peers_source: peers ? "discovery" : "unavailable",
  };
  const primitives = computePrimitives(inputs);
  return { level: computeLevel(primitives), primitives, inputs, stats, peers, list };
}

/** The level and its inputs: cheap (no counting of rows), for /health and every caller that wants the level. */
export function measure(env: CellEnv): Promise<LevelReport> {
  return gather(env, state(env).pulse());
}

/** The same, with the size of the state, for /consciousness and the metrics. */
export function measureAll(env: CellEnv): Promise<LevelReport<StateStats>> {
  return gather(env, state(env).stats());
}

export const FORMULA = {
  level: "0.30*awareness + 0.30*coherence + 0.25*adaptation + 0.15*momentum",
  awareness: "alive peers / known peers (1 with no known peers)",
  coherence: "alive peers whose state digest matches ours / alive peers (1 with no alive peers)",
  adaptation: `mean over alive peers of 0.5^(seconds since last successful sync / ${SYNC_HALF_LIFE_SECONDS}); 0 for a peer never synced (1 with no alive peers)`,
  momentum: `1 - exp(-writes in the last ${MOMENTUM_WINDOW_SECONDS / 60} minutes / ${MOMENTUM_SCALE})`,
  weights: WEIGHTS,
};

export function summarize(list: Peer[]): PeerSummary {
  const s: PeerSummary = { known: list.length, alive: 0, suspect: 0, dead: 0 };
  for (const p of list) s[p.status]++;
  return s;
}
