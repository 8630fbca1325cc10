import { describe, expect, it } from "vitest";
import { loadConfig } from "../../runtime/config.js";
import { createLogger } from "../../runtime/logger.js";
import { createTracing, NO_TRACING, tracingFromConfig } from "../../runtime/tracing/tracing.js";

const logger = createLogger({ level: "silent" });
const config = (env: Record<string, string>) => loadConfig({ env: { NODE_ID: "n1", ...env } });

describe("tracing options", () => {
  it("prints spans as log lines by default, exports over OTLP once a collector is named, and can be off", () => {
    expect(config({}).tracingExporter).toBe("console");
    expect(tracingFromConfig(config({}), logger)).not.toBe(NO_TRACING);
    expect(tracingFromConfig(config({ TRACING_EXPORTER: "none" }), logger)).toBe(NO_TRACING);
    const otlp = config({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" });
    expect(otlp.tracingExporter).toBe("otlp");
    expect(config({ TRACING_EXPORTER: "console" }).tracingExporter).toBe("console");
  });

  it("refuses otlp without a collector, and an unknown exporter, at start-up", () => {
    expect(() => config({ TRACING_EXPORTER: "otlp" })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(() => config({ TRACING_EXPORTER: "jaeger" })).toThrow(/TRACING_EXPORTER/);
    expect(() => config({ OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });

  it("samples every trace embedded (low traffic) and 1% in a cluster role, within 0..1", () => {
    expect(config({}).tracingSampleRatio).toBe(1);
    expect(config({ ROLE: "gateway" }).tracingSampleRatio).toBe(0.01);
    expect(config({ ROLE: "gateway", TRACING_SAMPLE_RATIO: "0.25" }).tracingSampleRatio).toBe(0.25);
    expect(() => config({ TRACING_SAMPLE_RATIO: "1.5" })).toThrow(/TRACING_SAMPLE_RATIO/);
    expect(() => config({ TRACING_SAMPLE_RATIO: "-0.1" })).toThrow(/TRACING_SAMPLE_RATIO/);
  });

  it("the console exporter writes each ended span as one log line, parent and child under one trace id", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const tracing = createTracing({
      exporter: "console",
      sampleRatio: 1,
      instance: "n1",
      role: "all",
      logger: { info: (fields: object, message?: string) => lines.push({ ...fields, msg: message }) },
    });
    const parent = tracing.tracer.startSpan("gateway.receive_message");
    const { context, trace } = await import("@opentelemetry/api");
    const child = tracing.tracer.startSpan(
      "durability.persist",
      { attributes: { allocated_sequence: 7 } },
      trace.setSpan(context.active(), parent),
    );
    child.end();
    parent.end();
    await tracing.shutdown();
    expect(lines.map((line) => [line.msg, line.span])).toEqual([
      ["span", "durability.persist"],
      ["span", "gateway.receive_message"],
    ]);
    const [persist, receive] = lines;
    expect(persist?.trace_id).toBe(receive?.trace_id);
    expect(persist?.parent_span_id).toBe(receive?.span_id);
    expect(persist?.attributes).toEqual({ allocated_sequence: 7 });
    expect(persist?.status).toBe("ok");
  });
});
