import { type IncomingMessage, type Server, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { toAppError } from "../errors.js";
import { pathOf } from "../http/server.js";
import type { Logger } from "../logger.js";
import type { ActorRegistry, InspectionRecord } from "./actor-registry.js";
import { authorizeInspector, type InspectorAccess } from "./inspector-access.js";
import type { ActorKind } from "./machine-catalog.js";

export const INSPECTOR_WS_PATH = "/inspector/ws";

/** Watchers at once per process: the inspector is for people, not for scraping. */
const MAX_SOCKETS = 32;
/** A watcher that does not read is skipped rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * `/inspector/ws`: a page watches one actor at a time and receives its steps live.
 *
 *   → {"type":"watch","kind":"connection","key":"conn_…"}   → {"type":"unwatch"}
 *   ← {"type":"watching","kind","key","state"}   (state null: no such live actor; steps start when it does)
 *   ← {"type":"step","kind","key","event","from","to","ended","at","dropped"}
 *   ← {"type":"error","message"}
 *
 * Attached to the process's HTTP server through its `upgrade` event, next to the gateway's `/v1/ws`: each
 * listener answers only its own paths.
 */
export class InspectorSocket {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: 4096,
    perMessageDeflate: false,
    clientTracking: true,
  });
  private readonly servers = new Set<Server>();

  constructor(
    private readonly registry: ActorRegistry,
    /** The kinds of actor that can be watched. */
    private readonly kinds: readonly ActorKind[],
    private readonly access: InspectorAccess,
    private readonly logger: Logger,
  ) {}

  attach(server: Server): void {
    if (this.servers.has(server)) return;
    this.servers.add(server);
    server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (pathOf(request) !== INSPECTOR_WS_PATH) return;
      try {
        authorizeInspector(request, this.access);
      } catch (error) {
        const refusal = toAppError(error);
        return refuse(socket, refusal.httpStatus, refusal.code, refusal.message);
      }
      if (this.wss.clients.size >= MAX_SOCKETS) {
        return refuse(socket, 503, "SERVICE_UNAVAILABLE", "too many inspector connections");
      }
      this.wss.handleUpgrade(request, socket, head, (ws) => this.serve(ws));
    });
  }

  close(): void {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }

  private serve(ws: WebSocket): void {
    let unwatch: (() => void) | undefined;
    let dropped = 0;
    const send = (message: Record<string, unknown>) => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(JSON.stringify(message));
    };
    const onRecord = (record: InspectionRecord) => {
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        dropped++;
        return;
      }
      send({ type: "step", ...record, at: new Date(record.at).toISOString(), dropped });
      dropped = 0;
    };
    ws.on("message", (data, isBinary) => {
      const message = isBinary ? undefined : parse(String(data), this.kinds);
      if (message === undefined) return send({ type: "error", message: "expected a JSON watch or unwatch" });
      unwatch?.();
      unwatch = undefined;
      if (message.type === "unwatch") return;
      unwatch = this.registry.watch(message.kind, message.key, onRecord);
      send({
        type: "watching",
        kind: message.kind,
        key: message.key,
        state: this.registry.stateOf(message.kind, message.key) ?? null,
      });
    });
    ws.on("close", () => unwatch?.());
    ws.on("error", (error) => this.logger.debug({ err: error }, "inspector socket error"));
  }
}

type ClientMessage = { type: "watch"; kind: ActorKind; key: string } | { type: "unwatch" };

function parse(text: string, kinds: readonly ActorKind[]): ClientMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { type, kind, key } = value as Record<string, unknown>;
  if (type === "unwatch") return { type };
  if (
    type === "watch" &&
    typeof kind === "string" &&
    kinds.includes(kind) &&
    typeof key === "string" &&
    key.length > 0 &&
    key.length <= 256
  ) {
    return { type, kind, key };
  }
  return undefined;
}

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      "Content-Type: application/json; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "Connection: close\r\n\r\n" +
      body,
  );
}
