/**
 * How the embedder shares its one model between a query someone waits for and
 * the backlog's batches: texts cut into short runs of like lengths, and turns
 * at the model given to queries first.
 */

/** Characters (and texts) per run of the model: a query waits for at most one run of the backlog's batch. */
export const RUN_CHARS = 480;
export const RUN_TEXTS = 16;
/**
 * For this long after a query, the backlog runs one text at a time: the next query (an agent asks
 * several in a row) waits for one text, not five (a run costs ~18 ms plus ~20 ms a text of 20 words).
 */
export const AFTER_QUERY_MS = 5000;
/**
 * The backlog's next run starts only once no query was answered for this long: an agent's next query
 * (it asks again within milliseconds of an answer) then finds the model free.
 */
export const QUERY_GAP_MS = 150;
/** …but a backlog's run waits for such a gap at most this long (its batch must finish within its timeout). */
export const MAX_DEFER_MS = 2000;

/**
 * A batch's texts, shortest first (the model pads a run's texts to the longest: like lengths waste least),
 * handed out a run at a time: at most `maxChars` characters and RUN_TEXTS texts (a longer text runs alone).
 */
export class Runs {
  private readonly order: number[];
  private at = 0;

  constructor(private readonly texts: string[]) {
    this.order = texts.map((_, i) => i).sort((a, b) => texts[a]!.length - texts[b]!.length);
  }

  next(maxChars = RUN_CHARS): number[] | undefined {
    if (this.at >= this.order.length) return undefined;
    const run: number[] = [];
    let chars = 0;
    while (this.at < this.order.length && run.length < RUN_TEXTS) {
      const i = this.order[this.at]!;
      const n = this.texts[i]!.length;
      if (run.length && chars + n > maxChars) break;
      run.push(i);
      chars += n;
      this.at++;
    }
    return run;
  }
}

/**
 * Turns at the model, one run at a time. Whoever waits for the next turn: queries first, then the
 * backlog, each in arrival order; the backlog also waits until no query was answered for QUERY_GAP_MS. A turn passes straight to the next waiter; each request runs its own
 * runs (in its own request context: no loop outlives the request that started it).
 */
export class Turns {
  private readonly waiting: { interactive: (() => void)[]; backlog: (() => void)[] } = { interactive: [], backlog: [] };
  private busy = false;
  private lastQuery = -Infinity;
  private lastAnswer = -Infinity;

  /** Characters the backlog's next run may hold: one text while queries come, else RUN_CHARS. */
  backlogRun(now = Date.now()): number {
    return now - this.lastQuery < AFTER_QUERY_MS ? 1 : RUN_CHARS;
  }

  async take<T>(job: () => Promise<T>, interactive: boolean): Promise<T> {
    if (interactive) {
      this.lastQuery = Date.now();
      if (this.busy) await this.wait(this.waiting.interactive);
    } else {
      const since = Date.now();
      const deferring = () => Date.now() - since < MAX_DEFER_MS;
      for (;;) {
        const quiet = Date.now() - this.lastAnswer;
        if (quiet < QUERY_GAP_MS && deferring()) {
          await new Promise((resolve) => setTimeout(resolve, QUERY_GAP_MS - quiet));
          continue;
        }
        if (!this.busy) break;
        await this.wait(this.waiting.backlog);
        // Handed the turn right after a query: give it back unless the gap holds. Not to the backlog
        // runs queued behind this one: they would only defer too, and would go first when this one
        // waits again; they are handed the turn when this one has run.
        if (Date.now() - this.lastAnswer >= QUERY_GAP_MS || !deferring()) break;
        this.yieldToQueries();
      }
    }
    this.busy = true;
    try {
      return await job();
    } finally {
      if (interactive) this.lastAnswer = Date.now();
      this.release();
    }
  }

  /** Waits to be handed the turn (which stays busy: it passes straight to the waiter). */
  private wait(queue: (() => void)[]): Promise<void> {
    return new Promise<void>((resolve) => queue.push(resolve));
  }

  /** Hands the turn to the next waiter (queries first), or frees the model. */
  private release(): void {
    const next = this.waiting.interactive.shift() ?? this.waiting.backlog.shift();
    if (next) next();
    else this.busy = false;
  }

  /** Hands the turn to a waiting query, or frees the model for the next one to come. */
  private yieldToQueries(): void {
    const next = this.waiting.interactive.shift();
    if (next) next();
    else this.busy = false;
  }
}

/**
 * A pause of one timer tick between two runs of a batch: a query that arrived during the last run is
 * received meanwhile and takes the next turn (a run of the model never yields to the event loop).
 */
export const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 1));
