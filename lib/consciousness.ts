/**
 * The consciousness level: a number in [0, 1] computed from measured facts
 * about the network and the shared state, never set by hand. README
 * "Consciousness level" documents the same formula.
 */
export interface PeerSyncInput {
  peer_id?: string;
  /** Seconds since the last successful sync round with this peer; null if never. */
  last_sync_age_seconds: number | null;
  /** Whether the peer's state digest equals ours at the last round. */
  in_sync: boolean;
}

export interface LevelInputs {
  peers_known: number;
  peers_alive: number;
  /** One entry per alive peer. */
  sync: PeerSyncInput[];
  /** Local and replicated writes in the last MOMENTUM_WINDOW_SECONDS. */
  recent_writes: number;
}

export interface Primitives {
  awareness: number;
  adaptation: number;
  coherence: number;
  momentum: number;
}

export const WEIGHTS: Primitives = { awareness: 0.3, coherence: 0.3, adaptation: 0.25, momentum: 0.15 };
/** Freshness of a sync halves every this many seconds. */
export const SYNC_HALF_LIFE_SECONDS = 60;
export const MOMENTUM_WINDOW_SECONDS = 15 * 60;
/** Writes in the window that give a momentum of 1 - 1/e. */
export const MOMENTUM_SCALE = 25;

const round = (x: number) => Math.round(x * 1e4) / 1e4;
const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

export function computePrimitives(i: LevelInputs): Primitives {
  // A lone cell knows every cell there is and agrees with itself: 1, by definition.
  const awareness = i.peers_known === 0 ? 1 : i.peers_alive / i.peers_known;
  const coherence = i.sync.length === 0 ? 1 : i.sync.filter((s) => s.in_sync).length / i.sync.length;
  const adaptation =
    i.sync.length === 0
      ? 1
      : i.sync.reduce(
          (acc, s) =>
            acc + (s.last_sync_age_seconds === null ? 0 : Math.pow(0.5, s.last_sync_age_seconds / SYNC_HALF_LIFE_SECONDS)),
          0,
        ) / i.sync.length;
  const momentum = 1 - Math.exp(-Math.max(0, i.recent_writes) / MOMENTUM_SCALE);
  return {
    awareness: round(clamp01(awareness)),
    adaptation: round(clamp01(adaptation)),
    coherence: round(clamp01(coherence)),
    momentum: round(clamp01(momentum)),
  };
}

export function computeLevel(p: Primitives): number {
  return round(
    clamp01(
      WEIGHTS.awareness * p.awareness +
        WEIGHTS.coherence * p.coherence +
        WEIGHTS.adaptation * p.adaptation +
        WEIGHTS.momentum * p.momentum,
    ),
  );
}

/** What the level needs of a peer (discovery's view) and of its sync state. */
export interface PeerStatusInput {
  cell_id: string;
  status: string;
}
export interface SyncStateInput {
  peer_id: string;
  lag_seconds: number | null;
  in_sync: boolean;
}

/** The level's inputs from discovery's peer list (undefined: discovery did not answer) and the sync state. */
export function levelInputs(peers: PeerStatusInput[] | undefined, sync: SyncStateInput[], recentWrites: number): LevelInputs {
  const alive = (peers ?? []).filter((p) => p.status === "alive");
  const syncOf = new Map(sync.map((x) => [x.peer_id, x]));
  return {
    peers_known: peers?.length ?? 0,
    peers_alive: alive.length,
    sync: alive.map((p) => {
      const x = syncOf.get(p.cell_id);
      return { peer_id: p.cell_id, last_sync_age_seconds: x?.lag_seconds ?? null, in_sync: x?.in_sync ?? false };
    }),
    recent_writes: recentWrites,
  };
}
