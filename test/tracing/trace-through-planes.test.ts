import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningPlatform, startPlatform } from "../../app/platform.js";
import { ManualClock, SystemClock } from "../../runtime/clock.js";
import { loadConfig } from "../../runtime/config.js";
import { type ChatId, IdFactory, type UserId } from "../../runtime/ids.js";
import { createLogger } from "../../runtime/logger.js";
import { createTracing, type Tracing } from "../../runtime/tracing/tracing.js";
import { createActiveChat } from "../support/chats.js";
import { engineEndpoint, uniqueName } from "../support/engines.js";
import { type TestKeys, testKeys } from "../support/gateway-harness.js";
import { waitFor } from "../support/wait-for.js";
import { devLogin, type ServerFrame, WsPeer } from "../support/ws-peer.js";

/**
 * One message's trace through every plane (spec §3 "Tracing"): the sender's gateway, the ingest node over gRPC,
 * the event log, the fanout worker, and the recipient's gateway over gRPC again, each a platform of its own
 * with its own span exporter, on the real engines. The spans must form one trace whose parent links follow
 * the message hop by hop, and the pushed `message` frame must name that trace.
 */
const clock = new SystemClock();
const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
const dynamodb = engineEndpoint("dynamodb");
const redis = engineEndpoint("redis");
const kafka = engineEndpoint("kafka");

interface Traced {
  readonly platform: RunningPlatform;
  readonly exporter: InMemorySpanExporter;
  readonly tracing: Tracing;
}

/**
 * The users are written straight to the chat store and have no session at chat management: their tokens carry
 * no `sid`, so the gateways' revocation check has no session to look up.
 */
const NO_SESSION = { sid: undefined };

const started: Traced[] = [];
const dirs: string[] = [];

async function startTraced(env: Record<string, string>): Promise<Traced> {
  const dataDir = mkdtempSync(join(tmpdir(), "tracing-"));
  dirs.push(dataDir);
  const config = loadConfig({
    env: { PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, NODE_ID: uniqueName("trace-"), ...env },
  });
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing({ exporter, sampleRatio: 1, instance: config.nodeId, role: config.role });
  const platform = await startPlatform(config, logger, clock, { tracing });
  const traced = { platform, exporter, tracing };
  started.push(traced);
  return traced;
}

async function stopAll(): Promise<void> {
  for (const { platform } of started.splice(0).reverse()) await platform.stop(0);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** The one finished span of `name` whose attribute `key` is `value`, waiting for it to end. */
function spanOf(
  exporter: InMemorySpanExporter,
  name: string,
  key: string,
  value: unknown,
): Promise<ReadableSpan> {
  return waitFor(
    () =>
      exporter.getFinishedSpans().find((span) => span.name === name && span.attributes[key] === value) ??
      undefined,
    { timeoutMs: 30_000, what: `span ${name} with ${key}=${String(value)}` },
  );
}

/** The finished span of `name` that is a child of `parent`, waiting for it to end. */
function childOf(exporter: InMemorySpanExporter, name: string, parent: ReadableSpan): Promise<ReadableSpan> {
  return waitFor(
    () =>
      exporter
        .getFinishedSpans()
        .find(
          (span) => span.name === name && span.parentSpanContext?.spanId === parent.spanContext().spanId,
        ) ?? undefined,
    { timeoutMs: 30_000, what: `span ${name} under ${parent.name}` },
  );
}

const traceIdOf = (span: ReadableSpan): string => span.spanContext().traceId;

/** A phone number no other run uses (E.164, +1 555 …). */
const phone = (): string => `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;

/** Asserts `child` continues `parent`: same trace, parent link to it. */
function expectChild(child: ReadableSpan, parent: ReadableSpan): void {
  expect(traceIdOf(child), `${child.name} is in the trace of ${parent.name}`).toBe(traceIdOf(parent));
  expect(child.parentSpanContext?.spanId, `${child.name} is a child of ${parent.name}`).toBe(
    parent.spanContext().spanId,
  );
}

type MessageFrame = ServerFrame & { readonly trace_context?: { trace_id: string; span_id: string } };

function pushOf(peer: WsPeer, messageId: string): Promise<MessageFrame> {
  return peer.next((frame) => frame.type === "message" && frame.payload.message_id === messageId, 30_000);
}

/** Sends with the frame-level `trace_context` a client may add (protocol §4). */
async function sendTraced(peer: WsPeer, chatId: string, traceContext: { trace_id: string; span_id: string }) {
  const requestId = randomUUID();
  peer.socket.send(
    JSON.stringify({
      type: "send_message",
      request_id: requestId,
      trace_context: traceContext,
      payload: {
        chat_id: chatId,
        client_message_id: randomUUID(),
        content: "traced",
        content_type: "text/plain",
      },
    }),
  );
  const ack = await peer.next((frame) => frame.request_id === requestId, 30_000);
  expect(ack.type).toBe("send_message_ack");
  return ack.payload as { message_id: string };
}

describe.skipIf(!dynamodb || !redis || !kafka)("one message's trace across the planes of a cluster", () => {
  let keys: TestKeys;
  let jwks: Server;
  let ingest: Traced;
  let senderGateway: Traced;
  let recipientGateway: Traced;
  let fanout: Traced;
  let alice: WsPeer;
  let bob: WsPeer;
  let chatId: ChatId;

  beforeAll(async () => {
    keys = await testKeys(new ManualClock());
    jwks = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(keys.jwks));
    });
    await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
    const engines = {
      DYNAMODB_ENDPOINT: dynamodb ?? "",
      REDIS_URL: redis ?? "",
      KAFKA_BROKERS: kafka ?? "",
      TABLE_PREFIX: uniqueName("trace_"),
      GRPC_PORT: "0",
      // Internal gRPC authenticated as in production: the trace crosses the token check too.
      INTERNAL_GRPC_TOKEN: "trace-test-internal-token",
      RING_REFRESH_MS: "200",
      // The shared broker's topics hold other suites' records: a consumer group of this suite's own.
      FANOUT_GROUP: uniqueName("fanout-trace-"),
      JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`,
    };
    ingest = await startTraced({ ...engines, ROLE: "ingest" });
    senderGateway = await startTraced({ ...engines, ROLE: "gateway" });
    recipientGateway = await startTraced({ ...engines, ROLE: "gateway" });
    fanout = await startTraced({ ...engines, ROLE: "fanout" });

    const ids = new IdFactory(clock);
    const [aliceId, bobId] = [ids.user(), ids.user()] as [UserId, UserId];
    chatId = await createActiveChat(ingest.platform.adapters.chatStore, { ids, clock }, [aliceId, bobId]);
    alice = await WsPeer.connect(
      senderGateway.platform.baseUrl,
      await keys.token(aliceId, Date.now(), NO_SESSION),
      "d-a",
    );
    bob = await WsPeer.connect(
      recipientGateway.platform.baseUrl,
      await keys.token(bobId, Date.now(), NO_SESSION),
      "d-b",
    );
  }, 180_000);

  afterAll(async () => {
    alice?.close();
    bob?.close();
    await stopAll();
    await new Promise<void>((resolve) => (jwks ? jwks.close(() => resolve()) : resolve()));
  }, 60_000);

  it("links gateway → ingest (gRPC) → event log → fanout → recipient gateway (gRPC) in one trace", async () => {
    const ack = await alice.sendMessage(chatId, "hello through every plane");
    const frame = (await pushOf(bob, ack.message_id)) as MessageFrame;

    const received = await spanOf(
      senderGateway.exporter,
      "gateway.receive_message",
      "message_id",
      ack.message_id,
    );
    expect(received.parentSpanContext, "a send without trace_context starts the trace").toBeUndefined();
    expect(received.attributes).toMatchObject({ chat_id: chatId, message_type: "send_message" });

    const persisted = await spanOf(ingest.exporter, "durability.persist", "message_id", ack.message_id);
    expectChild(persisted, received);
    expect(persisted.attributes).toMatchObject({ chat_id: chatId, allocated_sequence: ack.sequence });

    const produced = await spanOf(ingest.exporter, "durability.kafka_produce", "message_id", ack.message_id);
    expectChild(produced, persisted);
    expect(typeof produced.attributes.partition).toBe("number");

    const consumed = await spanOf(fanout.exporter, "fanout.consume", "message_id", ack.message_id);
    expectChild(consumed, produced);

    const recipientNode = recipientGateway.platform.config.nodeId;
    const batch = await waitFor(
      () =>
        fanout.exporter
          .getFinishedSpans()
          .find(
            (span) =>
              span.name === "fanout.deliver_batch" &&
              span.attributes.gateway_id === recipientNode &&
              span.parentSpanContext?.spanId === consumed.spanContext().spanId,
          ),
      { timeoutMs: 30_000, what: "the Deliver span to the recipient's gateway" },
    );
    expectChild(batch, consumed);

    const delivered = await childOf(recipientGateway.exporter, "gateway.receive_delivery", batch);
    expectChild(delivered, batch);
    expect(delivered.attributes.delivered).toBe(1);

    // The recipient's frame names the trace and the gateway span that pushed it.
    expect(frame.trace_context).toEqual({
      trace_id: traceIdOf(received),
      span_id: delivered.spanContext().spanId,
    });
  });

  it("a client's trace_context becomes the parent of the gateway's span and reaches the recipient", async () => {
    const clientTrace = { trace_id: randomUUID().replaceAll("-", ""), span_id: "0123456789abcdef" };
    const ack = await sendTraced(alice, chatId, clientTrace);
    const frame = (await pushOf(bob, ack.message_id)) as MessageFrame;
    const received = await spanOf(
      senderGateway.exporter,
      "gateway.receive_message",
      "message_id",
      ack.message_id,
    );
    expect(traceIdOf(received)).toBe(clientTrace.trace_id);
    expect(received.parentSpanContext?.spanId).toBe(clientTrace.span_id);
    expect(frame.trace_context?.trace_id).toBe(clientTrace.trace_id);
    const persisted = await spanOf(ingest.exporter, "durability.persist", "message_id", ack.message_id);
    expectChild(persisted, received);
  });
});

describe.skipIf(!dynamodb)("one message's trace in the embedded process", () => {
  let embedded: Traced;

  afterAll(stopAll, 60_000);

  it("follows the same hops in-process: the in-process log and the local gateway keep the context", async () => {
    embedded = await startTraced({ DYNAMODB_ENDPOINT: dynamodb ?? "", TABLE_PREFIX: uniqueName("trace_e_") });
    const { platform, exporter } = embedded;
    // Dev mode (the embedded default): users log in through REST, as the browser client does.
    const aliceLogin = await devLogin(platform.baseUrl, phone(), "d-a");
    const bobLogin = await devLogin(platform.baseUrl, phone(), "d-b");
    const ids = new IdFactory(clock);
    const chatId = await createActiveChat(platform.adapters.chatStore, { ids, clock }, [
      aliceLogin.userId as UserId,
      bobLogin.userId as UserId,
    ]);
    const alice = await WsPeer.connect(platform.baseUrl, aliceLogin.accessToken, "d-a");
    const bob = await WsPeer.connect(platform.baseUrl, bobLogin.accessToken, "d-b");
    try {
      const ack = await alice.sendMessage(chatId, "hello, embedded");
      const frame = (await pushOf(bob, ack.message_id)) as MessageFrame;
      const received = await spanOf(exporter, "gateway.receive_message", "message_id", ack.message_id);
      const persisted = await childOf(exporter, "durability.persist", received);
      const produced = await childOf(exporter, "durability.kafka_produce", persisted);
      const consumed = await childOf(exporter, "fanout.consume", produced);
      const batch = await childOf(exporter, "fanout.deliver_batch", consumed);
      const delivered = await childOf(exporter, "gateway.receive_delivery", batch);
      for (const span of [persisted, produced, consumed, batch, delivered]) {
        expect(traceIdOf(span)).toBe(traceIdOf(received));
      }
      expect(consumed.attributes.message_id).toBe(ack.message_id);
      expect(frame.trace_context?.trace_id).toBe(traceIdOf(received));
    } finally {
      alice.close();
      bob.close();
    }
  }, 120_000);
});
