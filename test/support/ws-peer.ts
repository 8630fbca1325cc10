import { randomUUID } from "node:crypto";
import WebSocket from "ws";
import { waitFor } from "./wait-for.js";

/** A frame as the server sends it (spec/protocol.md §4). */
export interface ServerFrame {
  readonly type: string;
  readonly request_id?: string;
  readonly payload: Record<string, unknown>;
}

/**
 * A bare protocol peer for black-box tests: it speaks the frames of spec/protocol.md over a real WebSocket
 * and records what it receives. It has none of the reference client's recovery logic, so tests drive
 * reconnects and syncs explicitly.
 */
export class WsPeer {
  readonly frames: ServerFrame[] = [];
  closed: { code: number; reason: string } | undefined;

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => this.frames.push(JSON.parse(data.toString()) as ServerFrame));
    socket.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
  }

  static async connect(baseUrl: string, token: string, deviceId: string): Promise<WsPeer> {
    const url = `${baseUrl.replace(/^http/, "ws")}/v1/ws?token=${encodeURIComponent(token)}&device_id=${encodeURIComponent(deviceId)}`;
    const socket = new WebSocket(url);
    const peer = new WsPeer(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    await peer.next((frame) => frame.type === "connection_established");
    return peer;
  }

  /** The first received frame matching, waiting for it up to `timeoutMs`. */
  next(match: (frame: ServerFrame) => boolean, timeoutMs = 15_000): Promise<ServerFrame> {
    return waitFor(() => this.frames.find(match), { timeoutMs, what: "a frame" });
  }

  send(type: string, payload: Record<string, unknown>, requestId: string = randomUUID()): string {
    this.socket.send(JSON.stringify({ type, request_id: requestId, payload }));
    return requestId;
  }

  /**
   * Sends a message and resolves with its ack's payload (or rejects with the error frame). RATE_LIMITED is
   * waited out as a client must (`retry_after_seconds`, same client_message_id), a few times at most.
   */
  async sendMessage(chatId: string, content: string, clientMessageId: string = randomUUID()) {
    for (let attempt = 1; ; attempt++) {
      const requestId = this.send("send_message", {
        chat_id: chatId,
        client_message_id: clientMessageId,
        content,
        content_type: "text/plain",
      });
      const answer = await this.next((frame) => frame.request_id === requestId);
      if (answer.type === "send_message_ack") {
        return answer.payload as { sequence: number; message_id: string; client_message_id: string };
      }
      const error = answer.payload as { code?: string; details?: { retry_after_seconds?: number } };
      if (error.code !== "RATE_LIMITED" || attempt >= 5) {
        throw new Error(`send refused: ${JSON.stringify(answer.payload)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000 * (error.details?.retry_after_seconds ?? 1)));
    }
  }

  /** Every message of a chat from the start, by paged sync_requests. */
  async syncAll(chatId: string): Promise<Array<Record<string, unknown>>> {
    const messages: Array<Record<string, unknown>> = [];
    for (let page = 0; page < 100; page++) {
      const after = Number(messages.at(-1)?.sequence ?? 0);
      const requestId = this.send("sync_request", {
        chat_id: chatId,
        last_acked_sequence: after,
        limit: 100,
      });
      const answer = await this.next((frame) => frame.request_id === requestId);
      if (answer.type !== "sync_response") throw new Error(`sync refused: ${JSON.stringify(answer.payload)}`);
      messages.push(...(answer.payload.messages as Array<Record<string, unknown>>));
      if (answer.payload.has_more !== true) return messages;
    }
    throw new Error("sync did not end");
  }

  /** Pushed `message` frames of a chat, by sequence, duplicates removed. */
  pushed(chatId: string): Array<Record<string, unknown>> {
    const bySequence = new Map<number, Record<string, unknown>>();
    for (const frame of this.frames) {
      if (frame.type === "message" && frame.payload.chat_id === chatId) {
        bySequence.set(Number(frame.payload.sequence), frame.payload);
      }
    }
    return [...bySequence.entries()].sort(([a], [b]) => a - b).map(([, payload]) => payload);
  }

  close(): void {
    this.socket.close();
  }
}

/** Logs a phone number in through REST (dev mode: the code comes from /api/v1/dev/otp). */
export async function devLogin(
  baseUrl: string,
  phone: string,
  deviceId: string,
): Promise<{ userId: string; accessToken: string; refreshToken: string }> {
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${baseUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  const requested = await post("/api/v1/auth/request-otp", { phone_number: phone });
  if (!requested.ok) throw new Error(`request-otp: ${requested.status} ${await requested.text()}`);
  const otp = (await (
    await fetch(`${baseUrl}/api/v1/dev/otp?phone=${encodeURIComponent(phone)}`)
  ).json()) as {
    data: { otp: string };
  };
  const verified = await post(
    "/api/v1/auth/verify-otp",
    { phone_number: phone, otp: otp.data.otp, device_id: deviceId },
    { "x-device-id": deviceId },
  );
  if (!verified.ok) throw new Error(`verify-otp: ${verified.status} ${await verified.text()}`);
  const { data } = (await verified.json()) as {
    data: { user: { user_id: string }; tokens: { access_token: string; refresh_token: string } };
  };
  return {
    userId: data.user.user_id,
    accessToken: data.tokens.access_token,
    refreshToken: data.tokens.refresh_token,
  };
}

/** A REST call as a logged-in user; resolves with the parsed `data` or throws with the error envelope. */
export async function restAs<T>(
  baseUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return (text === "" ? undefined : (JSON.parse(text) as { data: T }).data) as T;
}
