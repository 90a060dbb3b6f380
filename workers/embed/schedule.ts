/**
 * How the embedder shares its one model between a query someone waits for and
 * the backlog's batches: texts cut into short runs of like lengths, and turns
 * at the model given to queries first.
 */

/** Characters (and texts) per run of the model: a query waits for at most one run of the backlog's batch. */
export const RUN_CHARS = 480;
export const RUN_TEXTS = 16;

/**
 * The texts' indices, shortest first, cut into runs of at most RUN_CHARS characters and RUN_TEXTS texts
 * (a longer text runs alone). The model pads a run's texts to the longest: like lengths waste least.
 */
export function runsOf(texts: string[]): number[][] {
  const order = texts.map((_, i) => i).sort((a, b) => texts[a]!.length - texts[b]!.length);
  const out: number[][] = [];
  let run: number[] = [];
  let chars = 0;
  for (const i of order) {
    const n = texts[i]!.length;
    if (run.length && (chars + n > RUN_CHARS || run.length === RUN_TEXTS)) {
      out.push(run);
      run = [];
      chars = 0;
    }
    run.push(i);
    chars += n;
  }
  if (run.length) out.push(run);
  return out;
}

/**
 * Turns at the model, one run at a time. Whoever waits for the next turn: queries first, then the
 * backlog, each in arrival order. A turn passes straight to the next waiter; each request runs its own
 * runs (in its own request context: no loop outlives the request that started it).
 */
export class Turns {
  private readonly waiting: { interactive: (() => void)[]; backlog: (() => void)[] } = { interactive: [], backlog: [] };
  private busy = false;

  async take<T>(job: () => Promise<T>, interactive: boolean): Promise<T> {
    if (this.busy) {
      await new Promise<void>((resolve) => (interactive ? this.waiting.interactive : this.waiting.backlog).push(resolve));
    }
    this.busy = true;
    try {
      return await job();
    } finally {
      const next = this.waiting.interactive.shift() ?? this.waiting.backlog.shift();
      if (next) next();
      else this.busy = false;
    }
  }
}

/**
 * A pause of one timer tick between two runs of a batch: a query that arrived during the last run is
 * received meanwhile and takes the next turn (a run of the model never yields to the event loop).
 */
export const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 1));
