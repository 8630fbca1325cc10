import * as grpc from "@grpc/grpc-js";
import { trace } from "@opentelemetry/api";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace";
import { afterEach, describe, expect, it } from "vitest";
import type {
  CloseConnectionsRequest,
  DeliverCall,
  Delivery,
  GatewayApi,
} from "../../runtime/gateway-api.js";
import {
  DELIVERY_TRACEPARENT_KEY,
  deliveryTraceMetadata,
  deliveryTraceparents,
  MAX_DELIVERY_TRACEPARENTS,
} from "../../runtime/grpc/delivery-trace.js";
import { GatewayGrpcClient } from "../../runtime/grpc/gateway-client.js";
import { addGatewayService } from "../../runtime/grpc/gateway-server.js";
import { type RunningGrpcServer, startGrpcServer } from "../../runtime/grpc/grpc-server.js";
import { IngestGrpcClient } from "../../runtime/grpc/ingest-client.js";
import { addIngestService } from "../../runtime/grpc/ingest-server.js";
import type { ChatId, MessageId, UserId } from "../../runtime/ids.js";
import { toSequence } from "../../runtime/ids.js";
import type { IngestApi, PersistRequest } from "../../runtime/ingest-api.js";
import type { StoredMessage } from "../../runtime/ports/message-store.js";
import {
  contextOf,
  frameTraceContextOf,
  traceIdOf,
  traceparentOf,
  traceparentOfFrame,
  traceparentOfSpan,
} from "../../runtime/tracing/propagation.js";
import { createTracing, NO_TRACING, type Tracing } from "../../runtime/tracing/tracing.js";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";
const SAMPLED = `00-${TRACE_ID}-${SPAN_ID}-01`;

const tracings: Tracing[] = [];
function tracingWith(sampleRatio: number): { tracing: Tracing; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing({ exporter, sampleRatio, instance: "test-node", role: "all" });
  tracings.push(tracing);
  return { tracing, exporter };
}

afterEach(async () => {
  await Promise.all(tracings.splice(0).map((tracing) => tracing.shutdown()));
});

describe("traceparent propagation", () => {
  it("a span's traceparent continues as the same trace with that span as the remote parent", () => {
    const { tracing } = tracingWith(1);
    const span = tracing.tracer.startSpan("parent");
    const traceparent = traceparentOfSpan(span);
    span.end();
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const parent = trace.getSpanContext(contextOf(traceparent));
    expect(parent).toMatchObject({
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      isRemote: true,
    });
    expect(traceparentOf(contextOf(traceparent))).toBe(traceparent);
    expect(traceIdOf(traceparent)).toBe(span.spanContext().traceId);
  });

  it.each([
    ["empty", ""],
    ["garbage", "not-a-traceparent"],
    ["a short trace id", `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`],
    ["an all-zero trace id", `00-${"0".repeat(32)}-${SPAN_ID}-01`],
    ["an all-zero span id", `00-${TRACE_ID}-${"0".repeat(16)}-01`],
    ["non-hex digits", `00-${TRACE_ID.replace("4", "g")}-${SPAN_ID}-01`],
    ["the forbidden version ff", `ff-${TRACE_ID}-${SPAN_ID}-01`],
  ])("a malformed traceparent (%s) is ignored: the next span starts a new trace", (_, malformed) => {
    expect(trace.getSpanContext(contextOf(malformed))).toBeUndefined();
    expect(traceIdOf(malformed)).toBeUndefined();
    const { tracing, exporter } = tracingWith(1);
    tracing.tracer.startSpan("after garbage", {}, contextOf(malformed)).end();
    const [span] = exporter.getFinishedSpans();
    expect(span?.parentSpanContext).toBeUndefined();
    expect(span?.spanContext().traceId).not.toBe(TRACE_ID);
  });

  it("the no-op tracer records nothing but still continues a trace it is handed", () => {
    const span = NO_TRACING.tracer.startSpan("untraced", {}, contextOf(SAMPLED));
    expect(span.isRecording()).toBe(false);
    expect(traceIdOf(traceparentOfSpan(span))).toBe(TRACE_ID);
    // With nothing to continue it has no trace at all, so nothing is propagated.
    expect(traceparentOfSpan(NO_TRACING.tracer.startSpan("root"))).toBeUndefined();
  });
});

describe("sampling", () => {
  it("a ratio of 0 records no new trace, but a sampled parent is always followed", () => {
    const { tracing, exporter } = tracingWith(0);
    tracing.tracer.startSpan("new trace").end();
    tracing.tracer.startSpan("asked for", {}, contextOf(SAMPLED)).end();
    tracing.tracer.startSpan("upstream did not sample", {}, contextOf(`00-${TRACE_ID}-${SPAN_ID}-00`)).end();
    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(["asked for"]);
  });

  it("spans carry the process's resource: service name, instance and role", () => {
    const { tracing, exporter } = tracingWith(1);
    tracing.tracer.startSpan("any").end();
    expect(exporter.getFinishedSpans()[0]?.resource.attributes).toMatchObject({
      "service.name": "messaging-platform",
      "service.instance.id": "test-node",
      "messaging.role": "all",
    });
  });
});

describe("a frame's trace_context", () => {
  it("a valid one becomes a sampled traceparent (the client asks for its trace); case does not matter", () => {
    expect(traceparentOfFrame({ trace_id: TRACE_ID, span_id: SPAN_ID })).toBe(SAMPLED);
    expect(traceparentOfFrame({ trace_id: TRACE_ID.toUpperCase(), span_id: SPAN_ID.toUpperCase() })).toBe(
      SAMPLED,
    );
  });

  it.each([
    ["absent", undefined],
    ["not an object", "trace"],
    ["missing span_id", { trace_id: TRACE_ID }],
    ["numbers", { trace_id: 1, span_id: 2 }],
    ["a short trace_id", { trace_id: "abc", span_id: SPAN_ID }],
    ["an all-zero trace_id", { trace_id: "0".repeat(32), span_id: SPAN_ID }],
    ["a 17-digit span_id", { trace_id: TRACE_ID, span_id: `${SPAN_ID}0` }],
  ])("an invalid one (%s) is ignored", (_, value) => {
    expect(traceparentOfFrame(value)).toBeUndefined();
  });

  it("a traceparent becomes the frame form pushed to clients", () => {
    expect(frameTraceContextOf(SAMPLED)).toEqual({ trace_id: TRACE_ID, span_id: SPAN_ID });
    expect(frameTraceContextOf("garbage")).toBeUndefined();
    expect(frameTraceContextOf(undefined)).toBeUndefined();
  });
});

const message = (index: number): StoredMessage => ({
  chatId: "chat_01HZZZZZZZZZZZZZZZZZZZZZZZ" as ChatId,
  sequence: toSequence(index + 1),
  messageId: `msg_${index}` as MessageId,
  senderId: "user_a" as UserId,
  clientMessageId: `c-${index}`,
  content: "hi",
  contentType: "text/plain",
  createdAt: 1,
});

const traceparentFor = (index: number): string =>
  `00-${TRACE_ID.slice(0, 28)}${index.toString(16).padStart(4, "0")}-${SPAN_ID}-01`;

describe("per-message trace contexts of a batched Deliver call", () => {
  it("each message's context travels once, whatever number of recipients it has", () => {
    const deliveries: Delivery[] = [
      { userId: "user_b" as UserId, message: message(0), traceparent: traceparentFor(0) },
      { userId: "user_c" as UserId, message: message(0), traceparent: traceparentFor(0) },
      { userId: "user_b" as UserId, message: message(1), traceparent: traceparentFor(1) },
      { userId: "user_b" as UserId, message: message(2) },
    ];
    const metadata = deliveryTraceMetadata(deliveries);
    expect(metadata?.get(DELIVERY_TRACEPARENT_KEY)).toHaveLength(2);
    expect(deliveryTraceparents(metadata ?? new grpc.Metadata())).toEqual(
      new Map([
        ["msg_0", traceparentFor(0)],
        ["msg_1", traceparentFor(1)],
      ]),
    );
    expect(deliveryTraceMetadata([{ userId: "user_b" as UserId, message: message(0) }])).toBeUndefined();
  });

  it("is capped so that a large batch cannot outgrow gRPC's header limit", () => {
    const deliveries = Array.from({ length: MAX_DELIVERY_TRACEPARENTS + 10 }, (_, index) => ({
      userId: "user_b" as UserId,
      message: message(index),
      traceparent: traceparentFor(index),
    }));
    const metadata = deliveryTraceMetadata(deliveries) ?? new grpc.Metadata();
    expect(deliveryTraceparents(metadata).size).toBe(MAX_DELIVERY_TRACEPARENTS);
  });

  it("reads entries a proxy folded into one header, and skips malformed ones", () => {
    const metadata = new grpc.Metadata();
    metadata.add(DELIVERY_TRACEPARENT_KEY, `msg_0 ${traceparentFor(0)}, msg_1 ${traceparentFor(1)}`);
    metadata.add(DELIVERY_TRACEPARENT_KEY, "no-space-here");
    metadata.add(DELIVERY_TRACEPARENT_KEY, "too many parts here");
    expect([...deliveryTraceparents(metadata).keys()]).toEqual(["msg_0", "msg_1"]);
  });
});

describe("trace context over the internal gRPC services", () => {
  const servers: RunningGrpcServer[] = [];
  const closers: Array<() => void> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) close();
    await Promise.all(servers.splice(0).map((server) => server.stop(0)));
  });

  it("a persist's traceparent crosses as metadata, and a persist without one arrives without one", async () => {
    const received: PersistRequest[] = [];
    const api: IngestApi = {
      persist: async (request) => {
        received.push(request);
        return {
          messageId: "msg_1" as MessageId,
          sequence: toSequence(1),
          createdAt: 1,
          deduplicated: false,
        };
      },
      sync: async () => ({ messages: [], hasMore: false, nextSequence: 1, lastSequence: 0 }),
      ack: async () => ({ lastAckedSequence: 0 }),
    };
    const server = await startGrpcServer({
      host: "127.0.0.1",
      port: 0,
      register: (registry) => addIngestService(registry, api),
    });
    servers.push(server);
    const client = new IngestGrpcClient({ address: `127.0.0.1:${server.port}` });
    closers.push(() => client.close());
    const request: PersistRequest = {
      chatId: "chat_01HZZZZZZZZZZZZZZZZZZZZZZZ" as ChatId,
      senderId: "user_a" as UserId,
      clientMessageId: "c-1",
      content: "hi",
      contentType: "text/plain",
    };
    await client.persist({ ...request, traceparent: SAMPLED });
    await client.persist(request);
    expect(received[0]?.traceparent).toBe(SAMPLED);
    expect(received[1]).toStrictEqual(request);
  });

  it("a Deliver call carries its batch span and each message's own trace context", async () => {
    const calls: Array<{ deliveries: readonly Delivery[]; call: DeliverCall | undefined }> = [];
    const api: GatewayApi = {
      deliver: async (deliveries, call) => {
        calls.push({ deliveries, call });
        return { delivered: deliveries.length, noConnection: 0, dropped: 0 };
      },
      closeConnections: async (_request: CloseConnectionsRequest) => 0,
      pushEphemeral: async () => ({ delivered: 0, noConnection: 0, dropped: 0 }),
    };
    const server = await startGrpcServer({
      host: "127.0.0.1",
      port: 0,
      register: (registry) => addGatewayService(registry, api),
    });
    servers.push(server);
    const client = new GatewayGrpcClient({ address: `127.0.0.1:${server.port}` });
    closers.push(() => client.close());
    await client.deliver(
      [
        { userId: "user_b" as UserId, message: message(0), traceparent: traceparentFor(0) },
        { userId: "user_b" as UserId, message: message(1) },
      ],
      { traceparent: SAMPLED },
    );
    await client.deliver([{ userId: "user_b" as UserId, message: message(2) }]);
    expect(calls[0]?.call).toEqual({ traceparent: SAMPLED });
    expect(calls[0]?.deliveries.map((delivery) => delivery.traceparent)).toEqual([
      traceparentFor(0),
      undefined,
    ]);
    expect(calls[1]?.call).toEqual({});
    expect(calls[1]?.deliveries[0]).not.toHaveProperty("traceparent");
  });
});
