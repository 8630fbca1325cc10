import {
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";

/**
 * W3C trace context as the platform carries it between planes (spec/planes-ops-security-testing.md §3): one
 * `traceparent` string in gRPC metadata, in Kafka record headers and in the requests and deliveries of the
 * in-process apis. Ports and apis speak this string, never OpenTelemetry types, so an adapter or a test double
 * needs no tracing library; only the span-making edges turn it back into a context.
 */
export const TRACEPARENT = "traceparent";

const propagator = new W3CTraceContextPropagator();

/** The `traceparent` of a context's span; undefined when the context holds no valid span (nothing to continue). */
export function traceparentOf(context: Context): string | undefined {
  const carrier: Record<string, string> = {};
  propagator.inject(context, carrier, defaultTextMapSetter);
  return carrier[TRACEPARENT];
}

export const traceparentOfSpan = (span: Span): string | undefined =>
  traceparentOf(trace.setSpan(ROOT_CONTEXT, span));

/**
 * The context a span started under `traceparent` continues. Absent or malformed (wrong length, bad hex, an
 * all-zero id, an unknown version byte) it is the root context, so the span starts a new trace: a peer's
 * garbage never fails a request and never joins an unrelated trace.
 */
export function contextOf(traceparent: string | undefined): Context {
  if (traceparent === undefined || traceparent === "") return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, { [TRACEPARENT]: traceparent }, defaultTextMapGetter);
}

/** The 32-hex trace id of a valid `traceparent`, else undefined. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return trace.getSpanContext(contextOf(traceparent))?.traceId;
}

/** The frame field of protocol §4: `trace_context {trace_id, span_id}` (lower-case hex, 32 and 16 digits). */
export interface FrameTraceContext {
  readonly trace_id: string;
  readonly span_id: string;
}

const TRACE_ID = /^(?!0{32}$)[0-9a-f]{32}$/;
const SPAN_ID = /^(?!0{16}$)[0-9a-f]{16}$/;

/**
 * A client frame's `trace_context` as a `traceparent`, or undefined when it is not a valid one (ignored: the
 * field is optional and a bad one only costs the client its own trace). A client that sends a trace context
 * asks for that trace, the WebSocket counterpart of `X-Force-Sample: true`, so it is marked sampled.
 */
export function traceparentOfFrame(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { trace_id: traceId, span_id: spanId } = value as Record<string, unknown>;
  if (typeof traceId !== "string" || typeof spanId !== "string") return undefined;
  const [trace, span] = [traceId.toLowerCase(), spanId.toLowerCase()];
  if (!TRACE_ID.test(trace) || !SPAN_ID.test(span)) return undefined;
  return `00-${trace}-${span}-01`;
}

/** The frame form of a `traceparent` (for pushes to clients), or undefined when it is not valid. */
export function frameTraceContextOf(traceparent: string | undefined): FrameTraceContext | undefined {
  const spanContext = trace.getSpanContext(contextOf(traceparent));
  return spanContext === undefined
    ? undefined
    : { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}
