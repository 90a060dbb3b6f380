/**
 * A TCP proxy on loopback that adds latency: every chunk, in either
 * direction, is forwarded `delayMs` after it arrived (order kept), so a peer
 * behind it answers slowly without losing anything. The delay can be changed
 * while connections are open; it applies to chunks that arrive afterwards.
 */
import net from "node:net";

export interface DelayProxyOptions {
  /** Address the proxy listens on (another loopback address than the target's). */
  host: string;
  /** Where connections go; the proxy listens on the same ports. */
  targetHost: string;
  ports: number[];
  delayMs?: number;
}

export class DelayProxy {
  delayMs: number;
  /** Connections accepted so far (to show the peers really came through the proxy). */
  connections = 0;
  /**
   * By port: connections the client closed while an answer was still owed (it sent bytes after the last
   * answer bytes it got), i.e. requests it gave up on, as a caller does when its timeout fires.
   */
  readonly gaveUp = new Map<number, number>();
  /**
   * By port: connections the target closed (an idle keep-alive connection timing out) while the client,
   * not yet told, sent another request on it. The delay widens that race; the client retries on a new
   * connection. Not a request given up.
   */
  readonly closedUnder = new Map<number, number>();
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();

  private constructor(readonly opts: DelayProxyOptions) {
    this.delayMs = opts.delayMs ?? 0;
  }

  static async start(opts: DelayProxyOptions): Promise<DelayProxy> {
    const proxy = new DelayProxy(opts);
    try {
      for (const port of opts.ports) await proxy.listen(port);
    } catch (e) {
      await proxy.close();
      throw e;
    }
    return proxy;
  }

  private listen(port: number): Promise<void> {
    const server = net.createServer((client) => this.accept(client, port));
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, this.opts.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  }

  private accept(client: net.Socket, port: number): void {
    this.connections++;
    const upstream = net.connect({ host: this.opts.targetHost, port });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.setNoDelay(true);
      s.on("close", () => this.sockets.delete(s));
      // A reset on one side closes the other; errors are a peer going away, not a test failure.
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    let owed = false;
    let targetClosed = false;
    client.on("data", () => (owed = true));
    // When the target's end or close reaches the proxy, not when the client is told (delayMs later).
    upstream.on("end", () => (targetClosed = true));
    upstream.on("close", () => (targetClosed = true));
    client.on("close", () => {
      if (!owed) return;
      const count = targetClosed ? this.closedUnder : this.gaveUp;
      count.set(port, (count.get(port) ?? 0) + 1);
    });
    this.pipe(client, upstream);
    this.pipe(upstream, client, () => (owed = false));
  }

  /**
   * Forwards `from` to `to`, each chunk (and the end) `delayMs` after it arrived. One queue per
   * direction keeps the order even when the delay changes: nothing overtakes what came before it.
   */
  private pipe(from: net.Socket, to: net.Socket, delivered?: () => void): void {
    const queue: { due: number; run: () => void }[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer = undefined;
      while (queue.length > 0 && queue[0]!.due <= Date.now()) queue.shift()!.run();
      if (queue.length > 0) timer = setTimeout(flush, queue[0]!.due - Date.now());
    };
    const later = (run: () => void) => {
      const last = queue.at(-1)?.due ?? 0;
      queue.push({ due: Math.max(last, Date.now() + this.delayMs), run });
      if (timer === undefined) flush();
    };
    from.on("data", (chunk: Buffer) =>
      later(() => {
        if (to.destroyed) return;
        to.write(chunk);
        delivered?.();
      }),
    );
    from.on("end", () => later(() => !to.destroyed && to.end()));
    // Closed (after its end, or reset): close the other side once what it was sent is written.
    from.on("close", () => later(() => to.destroySoon()));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(
      this.servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))),
    );
  }
}
