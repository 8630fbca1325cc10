import { describe, expect, it } from "vitest";
import { type CollectedSpan, hopBreakdown, spansOf, TraceCollector } from "./trace-collector.js";

/** One message's path from the sender's gateway to the receiver's, at fixed offsets from `startMs`. */
const path = (traceId: string, startMs: number): CollectedSpan[] => [
  { traceId, name: "gateway.receive_message", startMs, endMs: startMs + 3 },
  { traceId, name: "durability.persist", startMs: startMs + 1, endMs: startMs + 6 },
  { traceId, name: "durability.kafka_produce", startMs: startMs + 8, endMs: startMs + 10 },
  { traceId, name: "fanout.consume", startMs: startMs + 14, endMs: startMs + 15 },
  { traceId, name: "gateway.receive_delivery", startMs: startMs + 17, endMs: startMs + 18 },
];

describe("the bench's trace breakdown", () => {
  it("cuts each complete trace of the window into its hops", () => {
    const spans = [
      ...path("a", 1_000),
      ...path("b", 1_500),
      ...path("late", 5_000),
      // Incomplete: never delivered, so it has no hops.
      ...path("c", 1_200).slice(0, 3),
    ];
    const breakdown = hopBreakdown(spans, 1_000, 2_000);
    expect(breakdown.traces).toBe(2);
    expect(breakdown.hops["gateway to ingest"].p99Ms).toBe(1);
    expect(breakdown.hops["persist (storage)"].p99Ms).toBe(5);
    expect(breakdown.hops["ack to produce"].p99Ms).toBe(2);
    expect(breakdown.hops["kafka produce"].p99Ms).toBe(2);
    expect(breakdown.hops["kafka to fanout"].p99Ms).toBe(4);
    expect(breakdown.hops["fanout to gateway"].p99Ms).toBe(3);
    expect(breakdown.hops["gateway push"].p99Ms).toBe(1);
    expect(breakdown.hops["total (traced)"].p99Ms).toBe(18);
  });

  it("takes the first of a repeated span (a redelivery) and reads OTLP JSON timestamps", async () => {
    const collector = new TraceCollector();
    const url = await collector.start();
    try {
      const span = (name: string, startMs: number, endMs: number) => ({
        traceId: "5b8efff798038103d269b633813fc60c",
        spanId: "eee19b7ec3c1b174",
        name,
        startTimeUnixNano: String(BigInt(startMs) * 1_000_000n),
        endTimeUnixNano: String(BigInt(endMs) * 1_000_000n),
      });
      const body = {
        resourceSpans: [
          {
            scopeSpans: [
              {
                spans: [
                  span("gateway.receive_message", 1_000, 1_003),
                  span("durability.persist", 1_001, 1_006),
                  span("durability.kafka_produce", 1_008, 1_010),
                  span("fanout.consume", 1_020, 1_021),
                  span("fanout.consume", 1_014, 1_015),
                  span("gateway.receive_delivery", 1_017, 1_018),
                ],
              },
            ],
          },
        ],
      };
      const response = await fetch(`${url}/v1/traces`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(200);
      expect(spansOf(body)).toHaveLength(6);
      const breakdown = hopBreakdown(collector.spans, 0, 2_000);
      expect(breakdown.traces).toBe(1);
      expect(breakdown.hops["kafka to fanout"].p50Ms).toBe(4);
    } finally {
      await collector.stop();
    }
  });
});
