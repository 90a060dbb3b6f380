/**
 * A model, not real stacks: how the cost of a sync round and the time for a
 * write to reach every cell grow with the number of cells N, for the design
 * as built (every SYNC_IDLE_INTERVAL_MS in a quiet cluster, each cell pulls
 * from SYNC_FANOUT alive peers picked at random; a write pokes every peer,
 * which then pulls from the writer).
 * Discovery's heartbeats are modelled too: one per pair of cells every
 * PROBE_INTERVAL_MS (a heartbeat received counts as one sent, so two cells take
 * turns), each carrying at most 16 alive peers picked at random (gossip).
 *
 * Inputs are measured on real stacks by `npm run bench -- sync`: bytes of an
 * idle round with one peer, and the single-write propagation time. The model
 * adds what grows with N: version vectors carry one entry per cell, and the
 * writer serves N-1 pulls one after another (a Durable Object is single-
 * threaded), each taking SERVE_MS of its time, on top of the idle pulls it
 * answers.
 */
import { report, type Figure } from "./stats";

/** The loop's constants (durable-objects/consciousness/sync.ts and lib/peer-health.ts, which Node does not type-check here). */
export const SYNC_INTERVAL_S = 5;
/** Between rounds once QUIET_ROUNDS in a row found nothing to repair: the idle cadence. */
export const SYNC_IDLE_INTERVAL_S = 15;
export const QUIET_ROUNDS = 3;
/** How long an idle cluster takes to reach its idle cadence (the quiet rounds, and a margin): benchmarks of idleness wait this long first. */
export const QUIETEN_MS = (QUIET_ROUNDS * SYNC_INTERVAL_S + 5) * 1000;
export const SYNC_FANOUT = 3;
export const PROBE_INTERVAL_S = 4;
/** Bytes of a heartbeat exchange with one peer listed, and per further peer listed: estimates (two signed requests of ~1 KB of headers, info and a known-peer entry each way), not measured. */
export const HEARTBEAT_BYTES = 2400;
export const KNOWN_PEER_BYTES = 2 * 60;
/** Alive peers a heartbeat lists at most (durable-objects/peer-registry.ts). */
export const KNOWN_SAMPLE = 16;

export interface SyncModel {
  /** Bytes on the wire of one idle pull between two cells (measured). */
  idleRoundBytes: number;
  /** Extra bytes per cell in a version vector, both ways (an entry like `"desktop-17":123456,`). */
  vectorEntryBytes: number;
  /** Write → visible on one peer, with one peer (measured). */
  oneHopMs: number;
  /** Writer time to serve one pull (DO call, signature check, page). */
  serveMs: number;
}

export const MEASURED: SyncModel = { idleRoundBytes: 695, vectorEntryBytes: 2 * 24, oneHopMs: 80, serveMs: 1.5 };

export interface ScalePoint {
  cells: number;
  /** Bytes per second one cell sends and receives for idle rounds. */
  perCellIdleBytesPerSecond: number;
  /** Bytes per second one cell sends and receives for discovery's heartbeats. */
  perCellHeartbeatBytesPerSecond: number;
  /** Bytes per second on the whole network. */
  networkIdleBytesPerSecond: number;
  /** Share of one core each cell spends answering idle pulls. */
  idleServeLoad: number;
  /** Write → on every cell, in the model. */
  convergenceMs: number;
}

export function simulate(n: number, m: SyncModel = MEASURED): ScalePoint {
  const round = m.idleRoundBytes + m.vectorEntryBytes * Math.max(0, n - 2);
  const fanout = Math.min(SYNC_FANOUT, n - 1);
  // Idle, it pulls from `fanout` peers and, on average, serves as many pulls, every SYNC_IDLE_INTERVAL_S.
  const perCell = (2 * fanout * round) / SYNC_IDLE_INTERVAL_S;
  // While writes come, rounds are every SYNC_INTERVAL_S: the load the writer's pulls queue behind.
  const idleLoad = (fanout * m.serveMs) / SYNC_INTERVAL_S / 1000;
  const heartbeat = HEARTBEAT_BYTES + KNOWN_PEER_BYTES * Math.min(KNOWN_SAMPLE - 1, Math.max(0, n - 2));
  const perCellHeartbeat = ((n - 1) * heartbeat) / PROBE_INTERVAL_S;
  // The writer answers n-1 pulls in a row; while it is saturated by idle pulls they queue behind.
  const busy = Math.min(0.99, idleLoad);
  const convergence = m.oneHopMs + ((n - 2) * m.serveMs) / (1 - busy);
  return {
    cells: n,
    perCellIdleBytesPerSecond: perCell,
    perCellHeartbeatBytesPerSecond: perCellHeartbeat,
    networkIdleBytesPerSecond: (n * perCell) / 2,
    idleServeLoad: idleLoad,
    convergenceMs: convergence,
  };
}

export async function benchSimulate(root: string): Promise<Figure[]> {
  const figures: Figure[] = [];
  const base = simulate(2);
  for (const n of [2, 10, 100, 1000]) {
    const p = simulate(n);
    figures.push(
      {
        figure: `model, ${n} cells: idle sync traffic per cell`,
        value: p.perCellIdleBytesPerSecond,
        unit: "B/s",
        reference: "2 cells",
        referenceValue: base.perCellIdleBytesPerSecond,
        ratio: p.perCellIdleBytesPerSecond / base.perCellIdleBytesPerSecond,
      },
      { figure: `model, ${n} cells: share of a core answering idle pulls`, value: p.idleServeLoad, unit: "cores" },
      {
        figure: `model, ${n} cells: discovery heartbeat traffic per cell (every peer, every ${PROBE_INTERVAL_S} s)`,
        value: p.perCellHeartbeatBytesPerSecond,
        unit: "B/s",
      },
      {
        figure: `model, ${n} cells: write visible everywhere`,
        value: p.convergenceMs,
        unit: "ms",
        reference: "2 cells",
        referenceValue: base.convergenceMs,
        ratio: p.convergenceMs / base.convergenceMs,
      },
    );
  }
  report("simulate", figures, root);
  return figures;
}
