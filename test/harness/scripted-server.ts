import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";

/**
 * A tiny WebSocket server speaking the protocol from a script, for the few server behaviours the real gateway
 * cannot be made to show on demand (a 403 or a revoked token at upgrade, FORBIDDEN, frame types from a newer
 * version, a delayed `connection_established`). Everything else is tested against the real gateway.
 */
export interface ScriptedConnection {
  readonly socket: WebSocket;
  readonly request: IncomingMessage;
  readonly frames: Array<{ type: string; request_id?: string; payload: Record<string, unknown> }>;
  send(frame: Record<string, unknown>): void;
  establish(heartbeatIntervalMs?: number): void;
  /**
   * A WebSocket ping answered by the client's pong: every frame the client sent before it saw the ping has
   * arrived when this resolves (one TCP stream), so "nothing was sent" can be checked without sleeping.
   */
  roundTrip(): Promise<void>;
}

export interface Refusal {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers?: Record<string, string>;
}

export interface ScriptedServer {
  readonly url: string;
  readonly connections: ScriptedConnection[];
  readonly upgrades: number;
  /** Decides each upgrade: a refusal, or undefined to accept. */
  refuseWith(decide: ((request: IncomingMessage) => Refusal | undefined) | undefined): void;
  /** Called with each accepted connection; by default it is established at once. */
  onConnection(handler: (connection: ScriptedConnection) => void): void;
  /** Called with every frame a connection receives. */
  onFrame(
    handler: (connection: ScriptedConnection, frame: ScriptedConnection["frames"][number]) => void,
  ): void;
  close(): Promise<void>;
}

export async function scriptedServer(): Promise<ScriptedServer> {
  const wss = new WebSocketServer({ noServer: true });
  const http: Server = createServer((_, response) => response.writeHead(404).end());
  const connections: ScriptedConnection[] = [];
  let upgrades = 0;
  let refuse: ((request: IncomingMessage) => Refusal | undefined) | undefined;
  let connectionHandler: (connection: ScriptedConnection) => void = (connection) => connection.establish();
  let frameHandler: (connection: ScriptedConnection, frame: ScriptedConnection["frames"][number]) => void =
    () => {};

  http.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgrades++;
    const refusal = refuse?.(request);
    if (refusal !== undefined) {
      const body = JSON.stringify(refusal.body);
      const extra = Object.entries(refusal.headers ?? {})
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join("");
      socket.end(
        `HTTP/1.1 ${refusal.status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const connection: ScriptedConnection = {
        roundTrip: () =>
          new Promise<void>((resolve) => {
            ws.once("pong", () => resolve());
            ws.ping();
          }),
        socket: ws,
        request,
        frames: [],
        send: (frame) => ws.send(JSON.stringify({ timestamp: new Date().toISOString(), ...frame })),
        establish: (heartbeatIntervalMs = 30_000) =>
          connection.send({
            type: "connection_established",
            payload: {
              connection_id: `conn_${connections.length}`,
              user_id: "user_01HQZZZZZZZZZZZZZZZZZZZZZZ",
              device_id: String(request.headers["x-device-id"] ?? ""),
              server_time: new Date().toISOString(),
              heartbeat_interval_ms: heartbeatIntervalMs,
              protocol_version: 1,
            },
          }),
      };
      ws.on("message", (data) => {
        const frame = JSON.parse(String(data)) as ScriptedConnection["frames"][number];
        connection.frames.push(frame);
        frameHandler(connection, frame);
      });
      connections.push(connection);
      connectionHandler(connection);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/v1/ws`,
    connections,
    get upgrades() {
      return upgrades;
    },
    refuseWith: (decide) => {
      refuse = decide;
    },
    onConnection: (handler) => {
      connectionHandler = handler;
    },
    onFrame: (handler) => {
      frameHandler = handler;
    },
    close: async () => {
      for (const connection of connections) connection.socket.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** A sync_response with no messages for a sync_request. */
export function emptySync(connection: ScriptedConnection, frame: ScriptedConnection["frames"][number]): void {
  connection.send({
    type: "sync_response",
    request_id: frame.request_id,
    payload: { chat_id: frame.payload.chat_id, messages: [], has_more: false },
  });
}

export { WebSocket };
