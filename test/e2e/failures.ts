import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import type { Redis } from "ioredis";
import { expect } from "vitest";
import type { LocalCluster } from "../../deploy/local/cluster.js";
import { restAs, type ServerFrame, WsPeer } from "../support/ws-peer.js";
import { chatOf, type Stack, user } from "./scenarios.js";

/**
 * Helpers of the failure scenarios (failures.test.ts) on the multi-process cluster: a client's view of a
 * chat merged from pushes and sync, a sender that tells a lost request from an answered one, and checks of
 * what is stored against what was sent and acknowledged. Black-box: WebSocket and REST only, like
 * scenarios.ts; the one exception (a read of a routing entry in Redis) is in the test that needs it.
 */
export interface FailureStack extends Stack {
  readonly cluster: LocalCluster;
  readonly redis: Redis;
  /** The cluster's TABLE_PREFIX, which also prefixes its routing keys in Redis. */
  readonly tablePrefix: string;
}

export interface Ack {
  readonly sequence: number;
  readonly message_id: string;
  readonly client_message_id: string;
}

export type Person = Awaited<ReturnType<typeof user>>;
export type Message = Record<string, unknown>;

export const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The TCP socket under a client's WebSocket: pausing it stops reading, as a frozen client does. */
export const tcpOf = (peer: WsPeer) => (peer.socket as unknown as { _socket: Socket })._socket;

/**
 * A REST call retried on 503 as a client must (SERVICE_UNAVAILABLE: "backoff retry"): the engines are shared
 * by every suite on the machine and answer slowly when it is busy.
 */
export async function withRetry<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= 5 || !String(error).includes(": 503 ")) throw error;
      await sleep(500 * 2 ** attempt);
    }
  }
}

export const person = (stack: Stack, device: string): Promise<Person> => withRetry(() => user(stack, device));

export const groupOf = (stack: Stack, owner: Person, others: readonly Person[]): Promise<string> =>
  withRetry(() =>
    chatOf(
      stack,
      owner,
      others.map((p) => p.userId),
    ),
  );

export function gatewayUrl(stack: FailureStack, nodeId: string): string {
  const node = stack.cluster.nodes.find((candidate) => candidate.nodeId === nodeId);
  if (node === undefined) throw new Error(`no node ${nodeId}`);
  return `http://127.0.0.1:${node.httpPort}`;
}

/** A connection of `who` to one gateway (by node id) or, without one, through the entry URL. */
export async function connect(stack: FailureStack, who: Person, nodeId?: string): Promise<WsPeer> {
  const url = nodeId === undefined ? stack.entryUrl : gatewayUrl(stack, nodeId);
  return keepAlive(await WsPeer.connect(url, who.accessToken, who.device));
}

/** Heartbeats as a client must (D6): without them a connection is closed with idle_timeout after 60 s. */
function keepAlive(peer: WsPeer): WsPeer {
  const timer = setInterval(() => {
    if (peer.socket.readyState === peer.socket.OPEN) peer.send("heartbeat", {});
  }, 10_000);
  peer.socket.once("close", () => clearInterval(timer));
  return peer;
}

/** Answers the protocol says to retry (§6): after a while, with the same client_message_id. */
const retryable = (answer: ServerFrame) =>
  answer.type === "error" && ["SERVICE_UNAVAILABLE", "RATE_LIMITED"].includes(String(answer.payload.code));

/**
 * Sends on one connection with many requests in flight, and tells a lost request (the socket closed before
 * its answer: the client cannot know whether it was stored) from an answered one. Retryable refusals are
 * retried with the same client_message_id, as a client does.
 */
export class TrackedSender {
  private readonly pending = new Map<string, (answer: ServerFrame | undefined) => void>();
  /** Retryable refusals met (a busy machine), for the report. */
  retries = 0;

  constructor(readonly peer: WsPeer) {
    peer.socket.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as ServerFrame;
      const resolve = frame.request_id === undefined ? undefined : this.pending.get(frame.request_id);
      if (resolve === undefined || frame.request_id === undefined) return;
      this.pending.delete(frame.request_id);
      resolve(frame);
    });
    peer.socket.once("close", () => {
      for (const resolve of this.pending.values()) resolve(undefined);
      this.pending.clear();
    });
  }

  /** The ack, or undefined when the connection went away first. */
  async send(chatId: string, content: string, clientMessageId: string): Promise<Ack | undefined> {
    for (let attempt = 1; ; attempt++) {
      const answer = await this.request(chatId, content, clientMessageId);
      if (answer === undefined) return undefined;
      if (answer.type === "send_message_ack") return answer.payload as unknown as Ack;
      if (!retryable(answer) || attempt >= 6)
        throw new Error(`send refused: ${JSON.stringify(answer.payload)}`);
      this.retries++;
      await sleep(Math.min(8_000, 500 * 2 ** attempt));
    }
  }

  private async request(chatId: string, content: string, clientMessageId: string) {
    if (this.peer.closed !== undefined || this.peer.socket.readyState !== this.peer.socket.OPEN)
      return undefined;
    const requestId = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    return new Promise<ServerFrame | undefined>((resolve, reject) => {
      this.pending.set(requestId, resolve);
      timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error(`no answer to send ${clientMessageId} within 60 s`));
      }, 60_000);
      this.peer.send(
        "send_message",
        { chat_id: chatId, client_message_id: clientMessageId, content, content_type: "text/plain" },
        requestId,
      );
    }).finally(() => clearTimeout(timer));
  }
}

/**
 * What a client application shows of a chat: pushes and sync pages merged by sequence. A sequence seen again
 * with the same message_id is a harmless redelivery; with another message_id it is a conflict (two messages
 * under one sequence), which no client may ever see.
 */
export class ClientView {
  readonly bySequence = new Map<number, string>();
  readonly conflicts: string[] = [];

  absorb(messages: Iterable<Message>): this {
    for (const message of messages) {
      const sequence = Number(message.sequence);
      const id = String(message.message_id);
      const known = this.bySequence.get(sequence);
      if (known !== undefined && known !== id) this.conflicts.push(`${sequence}: ${known} vs ${id}`);
      else this.bySequence.set(sequence, id);
    }
    return this;
  }

  /** The highest sequence below which nothing is missing: where the client's sync resumes. */
  get cursor(): number {
    let cursor = 0;
    while (this.bySequence.has(cursor + 1)) cursor++;
    return cursor;
  }

  sequences(): number[] {
    return [...this.bySequence.keys()].sort((a, b) => a - b);
  }

  /** Syncs from the cursor to the end of the chat on `peer`, as a client does after (re)connecting. */
  async catchUp(peer: WsPeer, chatId: string): Promise<number> {
    const page = await syncFrom(peer, chatId, this.cursor);
    this.absorb(page);
    return page.length;
  }
}

/** Every message after `after` by paged sync_requests; each page ascends from its cursor without gaps. */
export async function syncFrom(peer: WsPeer, chatId: string, after: number): Promise<Message[]> {
  const messages: Message[] = [];
  for (let request = 0; request < 100; request++) {
    const cursor = Number(messages.at(-1)?.sequence ?? after);
    const requestId = peer.send("sync_request", { chat_id: chatId, last_acked_sequence: cursor, limit: 500 });
    const answer = await peer.next((frame) => frame.request_id === requestId, 60_000);
    if (retryable(answer)) {
      await sleep(1_000);
      continue;
    }
    if (answer.type !== "sync_response") throw new Error(`sync refused: ${JSON.stringify(answer.payload)}`);
    const page = answer.payload.messages as Message[];
    expect(
      page.map((m) => Number(m.sequence)),
      "a sync page ascends from its cursor without gaps",
    ).toEqual(range(cursor + 1, cursor + page.length));
    messages.push(...page);
    if (answer.payload.has_more !== true) return messages;
  }
  throw new Error("sync did not end");
}

/** The chat's history over REST, oldest first: what is stored. */
export async function history(stack: Stack, who: Person, chatId: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const after = Number(all.at(-1)?.sequence ?? 0);
    const page = await withRetry(() =>
      restAs<Message[]>(
        stack.entryUrl,
        who.accessToken,
        "GET",
        `/api/v1/chats/${chatId}/messages?direction=forward&limit=100&after_sequence=${after}`,
      ),
    );
    all.push(...page);
    if (page.length < 100) return all;
  }
}

/** The user's stored `last_acked_sequence` of a chat. */
export async function deliveredUpTo(stack: Stack, who: Person, chatId: string): Promise<number> {
  const states = await restAs<Array<{ last_acked_sequence: number }>>(
    stack.entryUrl,
    who.accessToken,
    "GET",
    `/api/v1/delivery-state?chat_ids=${chatId}`,
  );
  return states[0]?.last_acked_sequence ?? 0;
}

/** Raw `message` pushes of a chat on one connection, in arrival order, duplicates kept. */
export const rawPushes = (peer: WsPeer, chatId: string): Message[] =>
  peer.frames.filter((f) => f.type === "message" && f.payload.chat_id === chatId).map((f) => f.payload);

/** What a connection was told besides pushes and heartbeat answers. */
export const signalsOf = (peer: WsPeer): ServerFrame[] =>
  peer.frames.filter((f) => f.type !== "message" && f.type !== "heartbeat_ack");

/** Arrival time of each pushed sequence of a chat on one connection, from now on. */
export function arrivals(peer: WsPeer, chatId: string): Map<number, number> {
  const at = new Map<number, number>();
  peer.socket.on("message", (data) => {
    const frame = JSON.parse(data.toString()) as ServerFrame;
    if (frame.type === "message" && frame.payload.chat_id === chatId)
      at.set(Number(frame.payload.sequence), Date.now());
  });
  return at;
}

export function percentiles(values: readonly number[]): { p50: number; p95: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { p50: at(0.5), p95: at(0.95), max: sorted.at(-1) ?? Number.NaN };
}

/**
 * Stored is 1..n for n distinct sends, each sent content exactly once (no message lost, none stored twice),
 * and every ack names the stored message of its sequence.
 */
export function expectStoredOnce(
  stored: readonly Message[],
  sent: ReadonlyMap<string, string>,
  acks: readonly Ack[],
): void {
  expect(
    stored.map((m) => Number(m.sequence)),
    "stored sequences",
  ).toEqual(range(1, sent.size));
  expect(stored.map((m) => String(m.content)).sort(), "stored contents").toEqual([...sent.values()].sort());
  for (const ack of acks) {
    const message = stored[ack.sequence - 1];
    expect(message?.message_id, `ack of ${ack.client_message_id}`).toBe(ack.message_id);
    expect(message?.content, `content acked for ${ack.client_message_id}`).toBe(
      sent.get(ack.client_message_id),
    );
  }
}

/** The client shows exactly the stored messages: every sequence, in order, no gap, no conflict. */
export function expectViewIsStored(view: ClientView, stored: readonly Message[], who: string): void {
  expect(view.conflicts, `${who}: two messages under one sequence`).toEqual([]);
  expect(view.sequences(), `${who}: every message, in order, no gaps`).toEqual(range(1, stored.length));
  expect(
    view.sequences().map((s) => view.bySequence.get(s)),
    `${who}: the stored messages`,
  ).toEqual(stored.map((m) => String(m.message_id)));
}
