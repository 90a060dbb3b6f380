/**
 * Request metrics are counted per isolate for a moment and then flushed, as
 * deltas, to the MetricsStore Durable Object (through the metrics worker), so
 * the totals survive isolate restarts and are shared by every worker without a
 * round trip on each request.
 */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export interface RequestSeries {
  service: string;
  route: string;
  status: string;
  count: number;
  sum: number;
  /** Non-cumulative counts per bucket of DURATION_BUCKETS, plus one for +Inf. */
  buckets: number[];
}

export interface MetricsBatch {
  requests: RequestSeries[];
}

export interface MetricsSink {
  record(batch: MetricsBatch): Promise<void>;
}

/** An increment of a labelled counter kept by the MetricsStore (sync rounds, rows, bytes …). */
export interface CounterDelta {
  name: string;
  labels: Record<string, string>;
  delta: number;
}

const FLUSH_DELAY_MS = 250;

export function bucketIndex(seconds: number): number {
  let i = 0;
  while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
  return i;
}

/**
 * One service's request counts, per route and status, kept on the hot path of every request: a
 * series is found by route, then by status, in maps keyed by the values themselves (no key string
 * is built per request). Flushes go out at most every FLUSH_DELAY_MS.
 */
export class MetricsBuffer {
  private byRoute = new Map<string, Map<number, RequestSeries>>();
  private flushing: Promise<void> | undefined;

  constructor(private readonly service: string) {}

  observe(route: string, status: number, seconds: number): void {
    const s = this.seriesOf(route, status);
    s.count += 1;
    s.sum += seconds;
    s.buckets[bucketIndex(seconds)]! += 1;
  }

  /** Drains the buffer into the sink shortly; at most one flush is pending at a time. */
  scheduleFlush(sink: MetricsSink | undefined, ctx: { waitUntil(p: Promise<unknown>): void }): void {
    if (this.flushing || !sink) return;
    this.flushing = new Promise<void>((resolve) => setTimeout(resolve, FLUSH_DELAY_MS))
      .then(() => this.flush(sink))
      .finally(() => {
        this.flushing = undefined;
      });
    ctx.waitUntil(this.flushing);
  }

  async flush(sink: MetricsSink): Promise<void> {
    if (this.byRoute.size === 0) return;
    const requests = [...this.byRoute.values()].flatMap((statuses) => [...statuses.values()]);
    this.byRoute = new Map();
    try {
      await sink.record({ requests });
    } catch {
      // The metrics store is unreachable: put the deltas back so they are not lost.
      for (const r of requests) {
        const s = this.seriesOf(r.route, Number(r.status));
        s.count += r.count;
        s.sum += r.sum;
        r.buckets.forEach((n, i) => (s.buckets[i]! += n));
      }
    }
  }

  private seriesOf(route: string, status: number): RequestSeries {
    let statuses = this.byRoute.get(route);
    if (!statuses) this.byRoute.set(route, (statuses = new Map()));
    let s = statuses.get(status);
    if (!s) {
      s = {
        service: this.service,
        route,
        status: String(status),
        count: 0,
        sum: 0,
        buckets: new Array<number>(DURATION_BUCKETS.length + 1).fill(0),
      };
      statuses.set(status, s);
    }
    return s;
  }
}
