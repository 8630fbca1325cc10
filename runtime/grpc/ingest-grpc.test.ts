import { createServer } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { IngestServiceClient } from "../../proto/generated/messaging/v1/IngestService.js";
import type { SyncMessagesRequest } from "../../proto/generated/messaging/v1/SyncMessagesRequest.js";
import { messagingProto } from "../../proto/load.js";
import { AppError, type ErrorCode, PROTOCOL_ERROR_CODES } from "../errors.js";
import { type ChatId, MAX_SEQUENCE, type MessageId, type Sequence, type UserId } from "../ids.js";
import type {
  AckRequest,
  AckResult,
  IngestApi,
  PersistRequest,
  PersistResult,
  SyncRequest,
  SyncResult,
} from "../ingest-api.js";
import type { ContentType, StoredMessage } from "../ports/message-store.js";
import { fromGrpcError } from "./errors.js";
import { type RunningGrpcServer, startGrpcServer } from "./grpc-server.js";
import { IngestGrpcClient } from "./ingest-client.js";
import { addIngestService } from "./ingest-server.js";

const CHAT = "chat_01JQ7Z8X9Y0000000000000000" as ChatId;
const ALICE = "user_01JQ7Z8X9Y0000000000000001" as UserId;
const BOB = "user_01JQ7Z8X9Y0000000000000002" as UserId;
const CREATED_AT = 1_767_225_600_000;

const storedMessage = (sequence: number, content: string): StoredMessage => ({
  chatId: CHAT,
  sequence: sequence as Sequence,
  messageId: `msg_01JQ7Z8X9Y00000000000000${String(sequence % 100).padStart(2, "0")}` as MessageId,
  senderId: ALICE,
  clientMessageId: `c-${sequence}`,
  content,
  contentType: "text/plain",
  createdAt: CREATED_AT + sequence,
});

type Call = { readonly method: keyof IngestApi; readonly request: PersistRequest | SyncRequest | AckRequest };

const PERSISTED: PersistResult = {
  messageId: "msg_01JQ7Z8X9Y0000000000000000" as MessageId,
  sequence: 1 as Sequence,
  createdAt: CREATED_AT,
  deduplicated: false,
};

const EMPTY_PAGE: SyncResult = { messages: [], hasMore: false, nextSequence: 1, lastSequence: 0 };

/** A deterministic IngestApi that records what reached it and answers what the test set. */
class RecordingIngest implements IngestApi {
  calls: Call[] = [];
  persistAnswer: () => Promise<PersistResult> = async () => PERSISTED;
  syncAnswer: () => Promise<SyncResult> = async () => EMPTY_PAGE;
  ackAnswer: () => Promise<AckResult> = async () => ({ lastAckedSequence: 0 });

  persist(request: PersistRequest): Promise<PersistResult> {
    this.calls.push({ method: "persist", request });
    return this.persistAnswer();
  }
  sync(request: SyncRequest): Promise<SyncResult> {
    this.calls.push({ method: "sync", request });
    return this.syncAnswer();
  }
  ack(request: AckRequest): Promise<AckResult> {
    this.calls.push({ method: "ack", request });
    return this.ackAnswer();
  }
  failWith(error: unknown): void {
    const fail = () => Promise.reject(error);
    this.persistAnswer = fail;
    this.syncAnswer = fail;
    this.ackAnswer = fail;
  }
}

/** A failure whose text must never cross the wire. */
const SECRET = { cause: new Error("password=hunter2"), public: false } as const;
/** What every failure that may not be shown looks like on the calling side. */
const GENERIC = { code: "INTERNAL_ERROR", message: "internal error", details: undefined } as const;

const PERSIST: PersistRequest = {
  chatId: CHAT,
  senderId: ALICE,
  clientMessageId: "6f1c1c4e-2b7a-4c1e-9a57-6b1f0f3b8a11",
  content: "héllo 👋 %41",
  contentType: "text/plain",
  traceId: "trace-1",
};

/** What a call failed with, for assertions on the rejection itself. */
async function failureOf(promise: Promise<unknown>): Promise<AppError> {
  const outcome: unknown = await promise.catch((error: unknown) => error);
  if (!(outcome instanceof AppError)) throw new Error(`expected an AppError, got ${String(outcome)}`);
  return outcome;
}

const local = (port: number): string => `127.0.0.1:${port}`;

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject()));
    });
  });

describe("IngestService over gRPC", () => {
  const api = new RecordingIngest();
  const logged: string[] = [];
  const logger = pino({ level: "error" }, { write: (line: string) => logged.push(line) });
  let server: RunningGrpcServer;
  let client: IngestGrpcClient;
  /** The generated client, to see the wire form other languages would see. */
  let raw: IngestServiceClient;

  beforeAll(async () => {
    server = await startGrpcServer({
      host: "127.0.0.1",
      port: 0,
      register: (grpcServer) => addIngestService(grpcServer, api, { logger }),
    });
    client = new IngestGrpcClient({ address: local(server.port), deadlineMs: 2000 });
    const { IngestService } = messagingProto().messaging.v1;
    raw = new IngestService(local(server.port), grpc.credentials.createInsecure());
  });
  afterEach(() => {
    Object.assign(api, new RecordingIngest());
    logged.length = 0;
  });
  afterAll(async () => {
    client.close();
    raw.close();
    await server.stop(1000);
  });

  const rawSync = (request: SyncMessagesRequest) =>
    new Promise<grpc.ServiceError>((resolve, reject) =>
      raw.SyncMessages(request, (error) => (error ? resolve(error) : reject(new Error("no error")))),
    );

  describe("round trips", () => {
    it("persist carries every request field and the result, up to sequence 2^53-1", async () => {
      const answer = { ...PERSISTED, sequence: MAX_SEQUENCE as Sequence, deduplicated: true };
      api.persistAnswer = async () => answer;
      await expect(client.persist(PERSIST)).resolves.toStrictEqual(answer);
      expect(api.calls).toEqual([{ method: "persist", request: PERSIST }]);
    });

    it("a persist without a trace id reaches the api without one", async () => {
      const { traceId: _omitted, ...untraced } = PERSIST;
      await client.persist(untraced);
      expect(api.calls[0]?.request).toStrictEqual(untraced);
    });

    it("sync carries a page of messages with has_more, next_sequence and last_sequence", async () => {
      const page = [storedMessage(MAX_SEQUENCE - 1, "first ✓"), storedMessage(MAX_SEQUENCE, "")];
      const answer: SyncResult = {
        messages: page,
        hasMore: true,
        nextSequence: MAX_SEQUENCE,
        lastSequence: MAX_SEQUENCE,
      };
      api.syncAnswer = async () => answer;
      const request: SyncRequest = { chatId: CHAT, userId: BOB, afterSequence: MAX_SEQUENCE - 2, limit: 500 };
      await expect(client.sync(request)).resolves.toStrictEqual(answer);
      expect(api.calls).toStrictEqual([{ method: "sync", request }]);
    });

    it("an empty sync page stays empty and a missing limit reaches the api as absent", async () => {
      const answer: SyncResult = { messages: [], hasMore: false, nextSequence: 8, lastSequence: 7 };
      api.syncAnswer = async () => answer;
      await expect(client.sync({ chatId: CHAT, userId: BOB, afterSequence: 7 })).resolves.toStrictEqual(
        answer,
      );
      expect(api.calls[0]?.request).toStrictEqual({ chatId: CHAT, userId: BOB, afterSequence: 7 });
    });

    it("ack carries the sequence and the stored last_acked_sequence", async () => {
      api.ackAnswer = async () => ({ lastAckedSequence: MAX_SEQUENCE });
      await expect(client.ack({ chatId: CHAT, userId: BOB, sequence: MAX_SEQUENCE })).resolves.toEqual({
        lastAckedSequence: MAX_SEQUENCE,
      });
      expect(api.calls).toStrictEqual([
        { method: "ack", request: { chatId: CHAT, userId: BOB, sequence: MAX_SEQUENCE } },
      ]);
    });
  });

  describe("errors", () => {
    const STATUS: Record<(typeof PROTOCOL_ERROR_CODES)[number], grpc.status> = {
      INVALID_MESSAGE: grpc.status.INVALID_ARGUMENT,
      MESSAGE_TOO_LARGE: grpc.status.INVALID_ARGUMENT,
      INVALID_CONTENT_TYPE: grpc.status.INVALID_ARGUMENT,
      UNAUTHORIZED: grpc.status.UNAUTHENTICATED,
      FORBIDDEN: grpc.status.PERMISSION_DENIED,
      NOT_A_MEMBER: grpc.status.PERMISSION_DENIED,
      NOT_FOUND: grpc.status.NOT_FOUND,
      RATE_LIMITED: grpc.status.RESOURCE_EXHAUSTED,
      SLOW_CONSUMER: grpc.status.RESOURCE_EXHAUSTED,
      SERVICE_UNAVAILABLE: grpc.status.UNAVAILABLE,
      INTERNAL_ERROR: grpc.status.INTERNAL,
    };

    it.each(PROTOCOL_ERROR_CODES)("%s survives the trip with its code, message and details", async (code) => {
      const details = { field: "content", max_bytes: 4096, quoted: "naïve 👋", nested: { ok: true } };
      api.failWith(new AppError(code, `${code}: 100% sure — ü`, { details }));

      const failure = await failureOf(client.persist(PERSIST));
      expect(failure).toMatchObject({ code, message: `${code}: 100% sure — ü`, details, public: true });

      const wire = await rawSync({ chat_id: CHAT, user_id: BOB });
      expect(wire.code).toBe(STATUS[code]);
      expect(wire.metadata.get("app-error-code")).toEqual([code]);
      expect(JSON.parse(String(wire.metadata.get("app-error-details")[0]))).toEqual(details);
    });

    it("a public error without details travels without app-error-details", async () => {
      api.failWith(new AppError("NOT_FOUND", "no such chat"));
      const failure = await failureOf(client.ack({ chatId: CHAT, userId: BOB, sequence: 1 }));
      expect(failure).toMatchObject({ code: "NOT_FOUND", message: "no such chat", details: undefined });
      expect((await rawSync({ chat_id: CHAT, user_id: BOB })).metadata.get("app-error-details")).toEqual([]);
    });

    it("NOT_OWNER comes back as FAILED_PRECONDITION with ring-version and a numeric details.ring_version", async () => {
      api.failWith(new AppError("NOT_OWNER", "ring v42 says ingest-2", { details: { ring_version: 42 } }));

      const failure = await failureOf(client.sync({ chatId: CHAT, userId: BOB, afterSequence: 0 }));
      expect(failure).toMatchObject({
        code: "NOT_OWNER",
        message: "this node does not own the chat",
        details: { ring_version: 42 },
        public: false,
      });
      expect(failure.retryable).toBe(true);

      const wire = await rawSync({ chat_id: CHAT, user_id: BOB });
      expect(wire.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(wire.metadata.get("ring-version")).toEqual(["42"]);
      expect(logged).toEqual([]);
    });

    const LEAK = "PutItem failed on db-7";
    const leaky = { ...SECRET, details: { host: "db-7" } };
    it.each([
      { thrown: "a non-public AppError", error: new AppError("INTERNAL_ERROR", LEAK, leaky) },
      { thrown: "a plain Error", error: new Error(LEAK, SECRET) },
      // Only protocol codes and NOT_OWNER exist on the wire.
      { thrown: "CONFIG_INVALID", error: new AppError("CONFIG_INVALID", LEAK, leaky) },
    ])("$thrown reaches the client as a generic INTERNAL_ERROR and is logged", async ({ error }) => {
      api.failWith(error);
      expect(await failureOf(client.persist(PERSIST))).toMatchObject(GENERIC);

      const wire = await rawSync({ chat_id: CHAT, user_id: BOB });
      expect(wire.code).toBe(grpc.status.INTERNAL);
      expect(`${wire.details} ${JSON.stringify(wire.metadata.getMap())}`).not.toMatch(/db-7|hunter2/);
      // The original and its cause stay on the server side, where they can be diagnosed.
      expect(logged.join("\n")).toContain(LEAK);
      expect(logged.join("\n")).toContain("hunter2");
    });
  });

  describe("what the edge checks", () => {
    const rejected = (code: ErrorCode, field: string) => ({ code, details: { field } });

    it.each<[string, ErrorCode, Partial<PersistRequest>]>([
      ["chat_id", "INVALID_MESSAGE", { chatId: "" as ChatId }],
      ["sender_id", "INVALID_MESSAGE", { senderId: "" as UserId }],
      ["content_type", "INVALID_CONTENT_TYPE", { contentType: "text/html" as ContentType }],
    ])("a persist with a bad %s fails with %s and never reaches the api", async (field, code, change) => {
      expect(await failureOf(client.persist({ ...PERSIST, ...change }))).toMatchObject(rejected(code, field));
      expect(api.calls).toEqual([]);
    });

    it("an after_sequence beyond 2^53-1 is INVALID_MESSAGE rather than a rounded number", async () => {
      const wire = await rawSync({ chat_id: CHAT, user_id: BOB, after_sequence: "9007199254740993" });
      expect(fromGrpcError(wire)).toMatchObject(rejected("INVALID_MESSAGE", "after_sequence"));
      expect(api.calls).toEqual([]);
    });
  });

  describe("what the client checks", () => {
    const badAnswer = (field: string) => ({ code: "INTERNAL_ERROR", public: false, details: { field } });

    it("a message with a content type this version does not know is an INTERNAL_ERROR", async () => {
      const odd = { ...storedMessage(3, "<b>"), contentType: "text/html" as ContentType };
      api.syncAnswer = async () => ({ messages: [odd], hasMore: false, nextSequence: 4, lastSequence: 3 });
      const failure = await failureOf(client.sync({ chatId: CHAT, userId: BOB, afterSequence: 2 }));
      expect(failure).toMatchObject(badAnswer("message.content_type"));
    });

    it("a persist answered with sequence 0 is an INTERNAL_ERROR", async () => {
      api.persistAnswer = async () => ({ ...PERSISTED, sequence: 0 as Sequence });
      const failure = await failureOf(client.persist(PERSIST));
      expect(failure).toMatchObject(badAnswer("sequence"));
    });

    it("a closed client fails with SERVICE_UNAVAILABLE", async () => {
      const closed = new IngestGrpcClient({ address: local(server.port) });
      closed.close();
      const failure = await failureOf(closed.ack({ chatId: CHAT, userId: BOB, sequence: 1 }));
      expect(failure).toMatchObject({ code: "SERVICE_UNAVAILABLE" });
    });
  });

  describe("transport failures", () => {
    it("a client pointed at a closed port fails with SERVICE_UNAVAILABLE within its deadline", async () => {
      const deadlineMs = 1500;
      const nowhere = new IngestGrpcClient({ address: local(await freePort()), deadlineMs });
      try {
        const startedAt = performance.now();
        const failure = await failureOf(nowhere.persist(PERSIST));
        expect(performance.now() - startedAt).toBeLessThan(deadlineMs + 250);
        expect(failure).toMatchObject({ code: "SERVICE_UNAVAILABLE", public: true });
        expect(failure.cause).toMatchObject({ code: grpc.status.UNAVAILABLE });
        expect(failure.message).not.toContain("127.0.0.1");
      } finally {
        nowhere.close();
      }
    });

    it("a handler slower than the client's deadline fails with SERVICE_UNAVAILABLE", async () => {
      let release: () => void = () => undefined;
      api.persistAnswer = () =>
        new Promise<PersistResult>((resolve) => {
          release = () => resolve(PERSISTED);
        });
      const impatient = new IngestGrpcClient({ address: local(server.port), deadlineMs: 100 });
      try {
        const failure = await failureOf(impatient.persist(PERSIST));
        expect(failure).toMatchObject({ code: "SERVICE_UNAVAILABLE", retryable: true });
        expect(failure.cause).toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
      } finally {
        release();
        impatient.close();
      }
    });

    it("stop() cancels calls still running after the grace period", async () => {
      const slowApi = new RecordingIngest();
      slowApi.persistAnswer = () => new Promise<PersistResult>(() => undefined);
      const doomed = await startGrpcServer({
        host: "127.0.0.1",
        port: 0,
        register: (grpcServer) => addIngestService(grpcServer, slowApi),
      });
      const caller = new IngestGrpcClient({ address: local(doomed.port), deadlineMs: 10_000 });
      try {
        const pending = failureOf(caller.persist(PERSIST));
        await vi.waitFor(() => expect(slowApi.calls).toHaveLength(1), { timeout: 5000 });
        await doomed.stop(50);
        expect(await pending).toMatchObject({ code: "SERVICE_UNAVAILABLE" });
      } finally {
        caller.close();
      }
    });
  });
});

describe("fromGrpcError", () => {
  const serviceError = (code: grpc.status, entries: Record<string, string>): grpc.ServiceError => {
    const metadata = new grpc.Metadata();
    for (const [key, value] of Object.entries(entries)) metadata.set(key, value);
    return Object.assign(new Error("boom"), { code, details: "boom", metadata });
  };

  it("keeps code and message when app-error-details is not a JSON object", () => {
    const error = fromGrpcError(
      serviceError(grpc.status.NOT_FOUND, { "app-error-code": "NOT_FOUND", "app-error-details": "{oops" }),
    );
    expect(error).toMatchObject({ code: "NOT_FOUND", message: "boom", details: undefined });
  });

  it("takes NOT_OWNER's ring version from ring-version when the details lack it", () => {
    const error = fromGrpcError(
      serviceError(grpc.status.FAILED_PRECONDITION, { "app-error-code": "NOT_OWNER", "ring-version": "9" }),
    );
    expect(error.details).toEqual({ ring_version: 9 });
  });

  const TEAPOT = { "app-error-code": "TEAPOT" };
  it.each<[string, ErrorCode, boolean, grpc.status, Record<string, string>]>([
    ["an unknown app-error-code", "INTERNAL_ERROR", false, grpc.status.INTERNAL, TEAPOT],
    ["a status without our metadata", "INTERNAL_ERROR", false, grpc.status.UNIMPLEMENTED, {}],
    ["a cancelled call", "SERVICE_UNAVAILABLE", true, grpc.status.CANCELLED, {}],
  ])("%s becomes %s (public: %s) with the gRPC error as cause", (_what, code, isPublic, status, entries) => {
    const error = fromGrpcError(serviceError(status, entries));
    expect(error).toMatchObject({ code, public: isPublic });
    expect(error.cause).toMatchObject({ code: status });
  });
});
