import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import WebSocket from "ws";
import { waitFor } from "./wait.js";

/** A frame as received (spec/protocol.md §4), plus its raw text. */
export interface Frame {
  readonly type: string;
  readonly request_id?: string;
  readonly timestamp?: string;
  readonly payload: Record<string, unknown> & {
    code?: string;
    details?: Record<string, unknown>;
  };
  readonly raw: string;
}

export interface Credentials {
  readonly token?: string;
  readonly deviceId?: string;
  /** `header` (Authorization + X-Device-ID, the preferred form) or `query` (`?token=&device_id=`). */
  readonly via?: "header" | "query";
  /** Path of the endpoint; default `/v1/ws`. */
  readonly path?: string;
  readonly extraHeaders?: Readonly<Record<string, string>>;
}

/** A refused upgrade (spec/protocol.md §3): the HTTP status, headers and JSON body. */
export interface Refusal {
  readonly status: number;
  readonly headers: IncomingMessage["headers"];
  readonly body: { error?: string; message?: string; details?: Record<string, unknown> };
}

export type Attempt = { readonly client: WsClient } | { readonly refusal: Refusal };

/**
 * A bare protocol peer: a `ws` socket that records every frame. It has no client logic of its own, so each
 * test decides exactly what goes on the wire.
 */
export class WsClient {
  readonly frames: Frame[] = [];
  /** The close code and reason once the socket closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  closeInfo: { code: number; reason: string } | undefined;
  /** Unparseable text received (there should be none). */
  readonly garbage: string[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data, isBinary) => {
      const raw = isBinary ? `<binary ${String((data as Buffer).length)}>` : data.toString();
      try {
        const parsed = JSON.parse(raw) as Omit<Frame, "raw">;
        this.frames.push({ ...parsed, raw });
      } catch {
        this.garbage.push(raw);
      }
    });
    this.closed = new Promise((resolve) => {
      socket.on("close", (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
      });
    });
    socket.on("error", () => {
      // surfaces as a close
    });
  }

  /** Opens a socket; resolves with the client once `connection_established` arrived, or with the refusal. */
  static async attempt(wsUrl: string, credentials: Credentials): Promise<Attempt> {
    const base = new URL(wsUrl);
    if (credentials.path !== undefined) base.pathname = credentials.path;
    const headers: Record<string, string> = { ...credentials.extraHeaders };
    if ((credentials.via ?? "header") === "header") {
      if (credentials.token !== undefined) headers.authorization = `Bearer ${credentials.token}`;
      if (credentials.deviceId !== undefined) headers["x-device-id"] = credentials.deviceId;
    } else {
      if (credentials.token !== undefined) base.searchParams.set("token", credentials.token);
      if (credentials.deviceId !== undefined) base.searchParams.set("device_id", credentials.deviceId);
    }
    const socket = new WebSocket(base, { headers, perMessageDeflate: false });
    const client = new WsClient(socket);
    const outcome = await new Promise<Attempt | "open">((resolve, reject) => {
      socket.once("open", () => resolve("open"));
      socket.once("unexpected-response", (_request, response: IncomingMessage) => {
        let text = "";
        response.on("data", (chunk: Buffer) => {
          text += chunk.toString();
        });
        response.on("end", () => {
          let body: Refusal["body"] = {};
          try {
            body = JSON.parse(text) as Refusal["body"];
          } catch {
            body = { message: text };
          }
          resolve({ refusal: { status: response.statusCode ?? 0, headers: response.headers, body } });
          socket.terminate();
        });
      });
      socket.once("error", (error) => reject(error));
    });
    if (outcome !== "open") return outcome;
    await client.next((frame) => frame.type === "connection_established");
    return { client };
  }

  /** Like `attempt`, but a refusal is an error. */
  static async connect(wsUrl: string, credentials: Credentials): Promise<WsClient> {
    const attempt = await WsClient.attempt(wsUrl, credentials);
    if ("refusal" in attempt) throw new Error(`connection refused: ${JSON.stringify(attempt.refusal)}`);
    return attempt.client;
  }

  get established(): Frame {
    const frame = this.frames[0];
    if (frame?.type !== "connection_established") throw new Error("no connection_established");
    return frame;
  }

  /** The first frame (at index >= `from`) that matches, waiting up to `timeoutMs`. */
  next(
    match: (frame: Frame) => boolean,
    options: { from?: number; timeoutMs?: number } = {},
  ): Promise<Frame> {
    const from = options.from ?? 0;
    return waitFor(() => this.frames.slice(from).find(match), {
      timeoutMs: options.timeoutMs ?? 45_000,
      what: "a frame",
      intervalMs: 5,
    });
  }

  /** The reply to a request: the first frame echoing its request_id. */
  reply(requestId: string, timeoutMs?: number): Promise<Frame> {
    return this.next((frame) => frame.request_id === requestId, timeoutMs === undefined ? {} : { timeoutMs });
  }

  ofType(type: string): Frame[] {
    return this.frames.filter((frame) => frame.type === type);
  }

  /** Sends a JSON value as one text frame (a string is sent as it is). */
  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Sends `{type, request_id, payload}` with a fresh request_id and resolves with the reply. */
  async request(type: string, payload: Record<string, unknown>, requestId: string = randomUUID()) {
    this.send({ type, request_id: requestId, payload });
    return this.reply(requestId);
  }

  /** A send_message with a new client_message_id (unless given); resolves with the reply frame. */
  sendMessage(chatId: string, content: string, clientMessageId: string = randomUUID()): Promise<Frame> {
    return this.request("send_message", { chat_id: chatId, client_message_id: clientMessageId, content });
  }

  /**
   * What the server sent after `mark` (a frame count) up to the answer to a heartbeat sent now: proof that
   * the frames sent before produced no answer, since the server answers a connection's frames in order.
   */
  async framesUntilHeartbeat(mark: number): Promise<Frame[]> {
    const requestId = randomUUID();
    this.send({ type: "heartbeat", request_id: requestId, payload: {} });
    const ack = await this.reply(requestId);
    const index = this.frames.indexOf(ack);
    return this.frames.slice(mark, index);
  }

  close(): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) {
      this.socket.close(1000);
    }
  }
}

/** ISO-8601 UTC with milliseconds (spec/protocol.md §2). */
export const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
