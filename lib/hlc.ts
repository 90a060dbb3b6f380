/**
 * Hybrid logical clock: physical milliseconds plus a counter, so timestamps
 * are monotonic on each cell and causally ordered across cells even when
 * wall clocks disagree. Encoded as a fixed-width string that sorts in order;
 * ties between cells are broken by cell id (see `compareStamp`).
 */
export interface HlcState {
  wall: number;
  counter: number;
}

const WALL_DIGITS = 15;
const COUNTER_DIGITS = 6;
/** A remote stamp this far ahead of our clock is refused: it would drag our clock into the future. */
export const MAX_DRIFT_MS = 5 * 60 * 1000;

export function encodeHlc(s: HlcState): string {
  return `${String(s.wall).padStart(WALL_DIGITS, "0")}-${String(s.counter).padStart(COUNTER_DIGITS, "0")}`;
}

export function decodeHlc(text: string): HlcState | undefined {
  const m = /^(\d{15})-(\d{6})$/.exec(text);
  return m ? { wall: Number(m[1]), counter: Number(m[2]) } : undefined;
}

export class Hlc {
  constructor(
    private state: HlcState = { wall: 0, counter: 0 },
    private readonly now: () => number = Date.now,
  ) {}

  get last(): HlcState {
    return { ...this.state };
  }

  /** A new timestamp for a local event. */
  tick(): string {
    const wall = Math.max(this.now(), this.state.wall);
    this.state = wall === this.state.wall ? { wall, counter: this.state.counter + 1 } : { wall, counter: 0 };
    return encodeHlc(this.state);
  }

  /** Advances past a remote timestamp; returns false if it is too far ahead of our clock. */
  observe(remote: string): boolean {
    const r = decodeHlc(remote);
    if (!r) return false;
    const now = this.now();
    if (r.wall > now + MAX_DRIFT_MS) return false;
    const wall = Math.max(now, this.state.wall, r.wall);
    let counter = 0;
    if (wall === this.state.wall && wall === r.wall) counter = Math.max(this.state.counter, r.counter) + 1;
    else if (wall === this.state.wall) counter = this.state.counter + 1;
    else if (wall === r.wall) counter = r.counter + 1;
    this.state = { wall, counter };
    return true;
  }
}

/** Orders (stamp, cell id) pairs: the last writer wins, ties broken by cell id. */
export function compareStamp(aHlc: string, aOrigin: string, bHlc: string, bOrigin: string): number {
  if (aHlc !== bHlc) return aHlc < bHlc ? -1 : 1;
  if (aOrigin === bOrigin) return 0;
  return aOrigin < bOrigin ? -1 : 1;
}
