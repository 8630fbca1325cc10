import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import { connect, type Socket } from "node:net";

/**
 * The local cluster's one entry URL, standing in for the load balancer of a deployment: WebSocket upgrades
 * and `/v1/ws` go to the gateways (round robin, skipping ones whose health check fails), everything else
 * (REST `/api/v1`, JWKS, the browser client) to the chat-management nodes; like a production load balancer it
 * reaches only their public listeners, never `/admin`, `/inspector` or `/metrics`. It forwards bytes and
 * holds no state of the product; a gateway that dies drops its sockets and clients reconnect through here
 * to another one, as they would behind an ALB.
 */
export interface EntryTargets {
  /** `host:port` of each gateway's HTTP server. */
  readonly gateways: readonly string[];
  /** `host:port` of each chat-management node's HTTP server. */
  readonly chatmgmt: readonly string[];
}

export interface EntryProxy {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

const HEALTH_EVERY_MS = 1_000;

class Pool {
  private next = 0;
  private readonly down = new Set<string>();
  constructor(readonly targets: readonly string[]) {}

  pick(): string | undefined {
    const healthy = this.targets.filter((target) => !this.down.has(target));
    const candidates = healthy.length > 0 ? healthy : this.targets;
    if (candidates.length === 0) return undefined;
    this.next = (this.next + 1) % candidates.length;
    return candidates[this.next];
  }

  /** A target that refused a connection is skipped at once, until its next health check passes. */
  markDown(target: string): void {
    this.down.add(target);
  }

  get size(): number {
    return this.targets.length;
  }

  async check(): Promise<void> {
    await Promise.all(
      this.targets.map(async (target) => {
        const ok = await fetch(`http://${target}/health`, { signal: AbortSignal.timeout(800) })
          .then((response) => response.ok)
          .catch(() => false);
        if (ok) this.down.delete(target);
        else this.down.add(target);
      }),
    );
  }
}

const isGatewayPath = (url: string | undefined): boolean => (url ?? "/").startsWith("/v1/ws");

function unavailable(what: string): string {
  return JSON.stringify({
    error: { code: "SERVICE_UNAVAILABLE", message: `no ${what} is reachable`, request_id: "" },
  });
}

export async function startEntryProxy(options: {
  readonly host: string;
  readonly port: number;
  readonly targets: EntryTargets;
}): Promise<EntryProxy> {
  const gateways = new Pool(options.targets.gateways);
  const chatmgmt = new Pool(options.targets.chatmgmt);
  const poolFor = (url: string | undefined) => (isGatewayPath(url) ? gateways : chatmgmt);
  const sockets = new Set<Socket>();

  const server: Server = createServer((request, response) => {
    const pool = poolFor(request.url);
    // The body is buffered only until the first byte goes upstream; a refused connection sent nothing, so
    // the request is safe to try on another node (a load balancer does the same for a dead target).
    const forward = (attempt: number) => {
      const target = pool.pick();
      if (target === undefined) {
        response.writeHead(503, { "content-type": "application/json" }).end(unavailable("backend"));
        return;
      }
      const [hostname, port] = target.split(":");
      const upstream = httpRequest(
        {
          hostname,
          port: Number(port),
          method: request.method,
          path: request.url,
          headers: forwardedHeaders(request),
        },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      upstream.on("error", (error: NodeJS.ErrnoException) => {
        if (error.code === "ECONNREFUSED" && attempt < pool.size) {
          pool.markDown(target);
          forward(attempt + 1);
          return;
        }
        if (!response.headersSent) {
          response
            .writeHead(502, { "content-type": "application/json" })
            .end(unavailable(`node at ${target}`));
        } else response.destroy();
      });
      upstream.on("socket", (socket) => {
        if (socket.connecting) socket.once("connect", () => request.pipe(upstream));
        else request.pipe(upstream);
      });
    };
    forward(1);
  });

  server.on("upgrade", (request: IncomingMessage, client: Socket, head: Buffer) => {
    let current: Socket | undefined;
    const tryGateway = (attempt: number) => {
      const target = gateways.pick();
      if (target === undefined) {
        client.end("HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\r\n");
        return;
      }
      const [hostname, port] = target.split(":");
      let connected = false;
      const upstream = connect(Number(port), hostname, () => {
        connected = true;
        const headers = forwardedHeaders(request);
        const lines = [`${request.method} ${request.url} HTTP/1.1`];
        for (const [name, value] of Object.entries(headers)) {
          for (const item of Array.isArray(value) ? value : [value]) {
            if (item !== undefined) lines.push(`${name}: ${item}`);
          }
        }
        upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
        if (head.length > 0) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on("error", (error: NodeJS.ErrnoException) => {
        // A dead gateway refuses the connection: try the next one before the client notices.
        if (!connected && error.code === "ECONNREFUSED" && attempt < gateways.size) {
          gateways.markDown(target);
          tryGateway(attempt + 1);
          return;
        }
        client.destroy();
      });
      current = upstream;
      sockets.add(upstream);
      upstream.on("close", () => {
        sockets.delete(upstream);
        if (connected) client.destroy();
      });
    };
    sockets.add(client);
    client.on("error", () => client.destroy());
    client.on("close", () => {
      sockets.delete(client);
      current?.destroy();
    });
    tryGateway(1);
  });

  await Promise.all([gateways.check(), chatmgmt.check()]);
  const health = setInterval(() => {
    void gateways.check();
    void chatmgmt.check();
  }, HEALTH_EVERY_MS);
  health.unref();

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  const shownHost = options.host === "0.0.0.0" ? "localhost" : options.host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        clearInterval(health);
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function forwardedHeaders(request: IncomingMessage): Record<string, string | string[] | undefined> {
  const remote = request.socket.remoteAddress ?? "";
  const prior = request.headers["x-forwarded-for"];
  return {
    ...request.headers,
    "x-forwarded-for": prior === undefined ? remote : `${String(prior)}, ${remote}`,
    "x-forwarded-proto": "http",
  };
}
