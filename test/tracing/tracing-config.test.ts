import { describe, expect, it } from "vitest";
import { loadConfig } from "../../runtime/config.js";
import { createLogger } from "../../runtime/logger.js";
import { NO_TRACING, tracingFromConfig } from "../../runtime/tracing/tracing.js";

const logger = createLogger({ level: "silent" });
const config = (env: Record<string, string>) => loadConfig({ env: { NODE_ID: "n1", ...env } });

describe("tracing options", () => {
  it("records nothing by default, and exports over OTLP once a collector is named", () => {
    expect(config({}).tracingExporter).toBe("none");
    expect(tracingFromConfig(config({}), logger)).toBe(NO_TRACING);
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
});
