import { SpanKind, type Tracer } from "@opentelemetry/api";
import type { IngestApi, PersistRequest, PersistResult } from "../runtime/ingest-api.js";
import { contextOf, traceparentOfSpan } from "../runtime/tracing/propagation.js";
import { withinSpan } from "../runtime/tracing/span-outcome.js";

/**
 * Where a message's trace begins (spec §3): each send gets a `gateway.receive_message` span, the root of its
 * trace or the child of the client frame's `trace_context`, and the durability plane is called with the span's
 * context, which every later hop continues. Syncs and acks pass through untraced.
 */
export function tracedSends(ingest: IngestApi, tracer: Tracer): IngestApi {
  return {
    persist: (request: PersistRequest): Promise<PersistResult> => {
      const span = tracer.startSpan(
        "gateway.receive_message",
        {
          kind: SpanKind.SERVER,
          attributes: {
            message_type: "send_message",
            user_id: request.senderId,
            chat_id: request.chatId,
            client_message_id: request.clientMessageId,
            ...(request.senderConnectionId === undefined
              ? {}
              : { connection_id: request.senderConnectionId }),
          },
        },
        contextOf(request.traceparent),
      );
      return withinSpan(span, async () => {
        const { traceparent: _client, ...untraced } = request;
        const traceparent = traceparentOfSpan(span);
        const result = await ingest.persist(
          traceparent === undefined ? untraced : { ...untraced, traceparent },
        );
        span.setAttributes({ message_id: result.messageId, sequence: result.sequence });
        return result;
      });
    },
    sync: (request) => ingest.sync(request),
    ack: (request) => ingest.ack(request),
  };
}
