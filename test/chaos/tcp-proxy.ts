import { connect, createServer, type Server, type Socket } from "node:net";

/** A cut of some connections only: those `which` picks, until `until` (epoch ms). */
interface PartialCut {
  readonly until: number;
  readonly which: (client: Socket) => boolean;
}

/**
 * A TCP proxy on the path from the cluster to an engine, for faults the engine itself cannot make: added
 * latency on every chunk in both directions, and cuts (every connection, or those of some processes, dropped
 * and new ones refused for a while). Processes see what a flaky network gives them: slow answers, resets,
 * refused connections.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** The accepted ends, i.e. one per connection. */
  private readonly clients = new Set<Socket>();
  private latencyMs = 0;
  private cutUntil = 0;
  private partialCut: PartialCut | undefined;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<number> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", () => resolve()));
    const address = this.server.address();
    this.port = typeof address === "object" && address !== null ? address.port : 0;
    return this.port;
  }

  /** Delays every chunk by `ms` until `forMs` has passed. */
  slow(ms: number, forMs: number): void {
    this.latencyMs = ms;
    setTimeout(() => {
      this.latencyMs = 0;
    }, forMs).unref();
  }

  /** Drops every open connection and refuses new ones for `forMs`. */
  cut(forMs: number): void {
    this.cutUntil = Date.now() + forMs;
    for (const socket of this.sockets) socket.destroy();
  }

  /**
   * Like `cut`, for the connections `which` picks (by their accepted end) only; the others go on. Returns how
   * many open connections it dropped.
   */
  cutSome(forMs: number, which: (client: Socket) => boolean): number {
    this.partialCut = { until: Date.now() + forMs, which };
    const picked = [...this.clients].filter(which);
    for (const client of picked) client.destroy();
    return picked.length;
  }

  /** Ends any cut at once. */
  heal(): void {
    this.cutUntil = 0;
    this.partialCut = undefined;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) =>
      this.server === undefined ? resolve() : this.server.close(() => resolve()),
    );
  }

  private accept(client: Socket): void {
    const now = Date.now();
    const partial = this.partialCut;
    if (now < this.cutUntil || (partial !== undefined && now < partial.until && partial.which(client))) {
      client.destroy();
      return;
    }
    this.clients.add(client);
    client.on("close", () => this.clients.delete(client));
    const upstream = connect(this.targetPort, this.targetHost);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    this.pipe(client, upstream);
    this.pipe(upstream, client);
  }

  /** Forwards in order; with latency, each chunk waits its turn behind the previous one. */
  private pipe(from: Socket, to: Socket): void {
    let chain = Promise.resolve();
    from.on("data", (chunk) => {
      const delay = this.latencyMs;
      if (delay === 0) {
        chain = chain.then(() => {
          if (!to.destroyed) to.write(chunk);
        });
        return;
      }
      from.pause();
      chain = chain
        .then(() => new Promise<void>((resolve) => setTimeout(resolve, delay)))
        .then(() => {
          if (!to.destroyed) to.write(chunk);
          from.resume();
        });
    });
  }
}
