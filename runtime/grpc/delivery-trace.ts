import * as grpc from "@grpc/grpc-js";
import type { Delivery } from "../gateway-api.js";

/**
 * The trace context of each message of a batched Deliver call (spec §3: fanout → delivery message → recipient
 * gateway). A call carries deliveries of many messages, each of its own trace, and the wire's Delivery has no
 * field for one, so they travel as request metadata: one `delivery-traceparent` entry per distinct message,
 * `{message_id} {traceparent}`. Entries are capped so that a large batch cannot outgrow gRPC's header limit
 * (8 KiB by default); messages past the cap are pushed untraced.
 */
export const DELIVERY_TRACEPARENT_KEY = "delivery-traceparent";
export const MAX_DELIVERY_TRACEPARENTS = 32;

/** Metadata naming the deliveries' trace contexts; undefined when none has one. */
export function deliveryTraceMetadata(deliveries: readonly Delivery[]): grpc.Metadata | undefined {
  let metadata: grpc.Metadata | undefined;
  const seen = new Set<string>();
  for (const delivery of deliveries) {
    const { traceparent } = delivery;
    const { messageId } = delivery.message;
    if (traceparent === undefined || seen.has(messageId)) continue;
    if (seen.size >= MAX_DELIVERY_TRACEPARENTS) break;
    seen.add(messageId);
    metadata ??= new grpc.Metadata();
    metadata.add(DELIVERY_TRACEPARENT_KEY, `${messageId} ${traceparent}`);
  }
  return metadata;
}

/** The trace context of each message named in a call's metadata (malformed entries are skipped). */
export function deliveryTraceparents(metadata: grpc.Metadata): ReadonlyMap<string, string> {
  const byMessage = new Map<string, string>();
  for (const value of metadata.get(DELIVERY_TRACEPARENT_KEY)) {
    if (typeof value !== "string") continue;
    // A proxy may fold repeated headers into one, comma-separated; neither part of an entry holds a comma.
    for (const entry of value.split(",")) {
      if (byMessage.size >= MAX_DELIVERY_TRACEPARENTS) return byMessage;
      const [messageId, traceparent, ...rest] = entry.trim().split(" ");
      if (messageId && traceparent && rest.length === 0) byMessage.set(messageId, traceparent);
    }
  }
  return byMessage;
}
