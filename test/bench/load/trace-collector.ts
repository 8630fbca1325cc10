import { createServer, type Server } from "node:http";
import { type LatencySummary, summarize } from "./stats.js";

/**
 * A minimal OTLP/HTTP trace collector for the bench: the cluster's processes export their spans here
 * (TRACING_EXPORTER=otlp, OTLP JSON, as @opentelemetry/exporter-trace-otlp-http sends it) and the bench cuts
 * each delivered message's trace into the hops it crossed.
 */

/** One span as the breakdown needs it: times in wall-clock milliseconds. */
export interface CollectedSpan {
  readonly traceId: string;
  readonly name: string;
  readonly startMs: number;
  readonly endMs: number;
}

/** The spans of one message's path, gateway to gateway (runtime/tracing and the planes that open them). */
const PATH = [
  "gateway.receive_message",
  "durability.persist",
  "durability.kafka_produce",
  "fanout.consume",
  "gateway.receive_delivery",
] as const;

/**
 * The hops of a send, each from one span's start or end to another's (all processes share this machine's
 * clock): what the sender's gateway does before the ingest node starts, the conditional write, the wait
 * from the ack to the Kafka produce (the outbox), the produce, the broker to the fanout consumer, the fanout
 * to the receiver's gateway (membership, routing, the gRPC call), and the push itself.
 */
export const HOPS = [
  {
    name: "gateway to ingest",
    from: ["gateway.receive_message", "start"],
    to: ["durability.persist", "start"],
  },
  { name: "persist (storage)", from: ["durability.persist", "start"], to: ["durability.persist", "end"] },
  { name: "ack to produce", from: ["durability.persist", "end"], to: ["durability.kafka_produce", "start"] },
  {
    name: "kafka produce",
    from: ["durability.kafka_produce", "start"],
    to: ["durability.kafka_produce", "end"],
  },
  { name: "kafka to fanout", from: ["durability.kafka_produce", "end"], to: ["fanout.consume", "start"] },
  { name: "fanout to gateway", from: ["fanout.consume", "start"], to: ["gateway.receive_delivery", "start"] },
  {
    name: "gateway push",
    from: ["gateway.receive_delivery", "start"],
    to: ["gateway.receive_delivery", "end"],
  },
  {
    name: "total (traced)",
    from: ["gateway.receive_message", "start"],
    to: ["gateway.receive_delivery", "end"],
  },
] as const;

export interface HopBreakdown {
  /** Traces that held every span of the path and started in the window. */
  readonly traces: number;
  readonly hops: Readonly<Record<(typeof HOPS)[number]["name"], LatencySummary>>;
}

/**
 * Per hop, the latency summary over the complete traces whose first span started in [fromMs, toMs). A trace
 * with a span repeated (a retried produce, a redelivery) counts each span's first occurrence.
 */
export function hopBreakdown(spans: readonly CollectedSpan[], fromMs: number, toMs: number): HopBreakdown {
  const byTrace = new Map<string, Map<string, CollectedSpan>>();
  for (const span of spans) {
    if (!(PATH as readonly string[]).includes(span.name)) continue;
    let trace = byTrace.get(span.traceId);
    if (trace === undefined) {
      trace = new Map();
      byTrace.set(span.traceId, trace);
    }
    const seen = trace.get(span.name);
    if (seen === undefined || span.startMs < seen.startMs) trace.set(span.name, span);
  }
  const values = new Map<string, number[]>(HOPS.map((hop) => [hop.name, []]));
  let traces = 0;
  for (const trace of byTrace.values()) {
    if (!PATH.every((name) => trace.has(name))) continue;
    const first = trace.get("gateway.receive_message") as CollectedSpan;
    if (first.startMs < fromMs || first.startMs >= toMs) continue;
    traces++;
    const at = ([name, edge]: readonly [string, "start" | "end"]) => {
      const span = trace.get(name) as CollectedSpan;
      return edge === "start" ? span.startMs : span.endMs;
    };
    for (const hop of HOPS) values.get(hop.name)?.push(at(hop.to) - at(hop.from));
  }
  return {
    traces,
    hops: Object.fromEntries(HOPS.map((hop) => [hop.name, summarize(values.get(hop.name) ?? [])])) as Record<
      (typeof HOPS)[number]["name"],
      LatencySummary
    >,
  };
}

interface OtlpJson {
  readonly resourceSpans?: ReadonlyArray<{
    readonly scopeSpans?: ReadonlyArray<{
      readonly spans?: ReadonlyArray<{
        readonly traceId?: string;
        readonly name?: string;
        readonly startTimeUnixNano?: string | number;
        readonly endTimeUnixNano?: string | number;
      }>;
    }>;
  }>;
}

const nanosToMs = (value: string | number | undefined) => Number(BigInt(value ?? 0) / 1_000n) / 1_000;

/** The spans of one OTLP JSON export request. */
export function spansOf(body: OtlpJson): CollectedSpan[] {
  const spans: CollectedSpan[] = [];
  for (const resource of body.resourceSpans ?? []) {
    for (const scope of resource.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        if (span.traceId === undefined || span.name === undefined) continue;
        spans.push({
          traceId: span.traceId,
          name: span.name,
          startMs: nanosToMs(span.startTimeUnixNano),
          endMs: nanosToMs(span.endTimeUnixNano),
        });
      }
    }
  }
  return spans;
}

/** Listens on 127.0.0.1 for OTLP/HTTP JSON exports (POST /v1/traces) and keeps every span. */
export class TraceCollector {
  readonly spans: CollectedSpan[] = [];
  private server: Server | undefined;

  /** Starts listening; returns the base URL for OTEL_EXPORTER_OTLP_ENDPOINT. */
  async start(): Promise<string> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        try {
          if (request.method === "POST" && request.url === "/v1/traces") {
            this.spans.push(...spansOf(JSON.parse(Buffer.concat(chunks).toString("utf8")) as OtlpJson));
          }
          response.writeHead(200, { "content-type": "application/json" }).end("{}");
        } catch {
          // Not OTLP JSON (e.g. protobuf): refuse it, the exporter logs the failure.
          response.writeHead(400).end();
        }
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("the trace collector has no port");
    return `http://127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
