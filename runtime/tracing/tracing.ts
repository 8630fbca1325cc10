import { ProxyTracer, type Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import {
  ATTR_SERVICE_INSTANCE_ID,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from "@opentelemetry/semantic-conventions";
import type { Config } from "../config.js";
import { AppError } from "../errors.js";
import { createLogger, type Logger } from "../logger.js";
import { SERVICE_NAME, SERVICE_VERSION } from "../version.js";
import { LogSpanExporter } from "./log-span-exporter.js";

/**
 * The tracing of one platform process: a tracer provider of its own (never the global one, so several
 * platforms in one test process each keep their spans apart) and the tracer every plane of the process makes
 * its spans with. Components take a `Tracer` in their options and default to the no-op one, which still
 * continues a trace it is handed (its spans carry the parent's ids), so propagation works with tracing off.
 */
export interface Tracing {
  readonly tracer: Tracer;
  /**
   * Exports what is buffered, then stops; spans started afterwards are dropped. Idempotent, and never rejects:
   * a collector that is down must not fail the process's shutdown (the failure goes to `onExportError`).
   */
  shutdown(): Promise<void>;
}

const TRACER_NAME = SERVICE_NAME;

/** A tracer that records nothing (the API's no-op tracer, whatever a global provider may be registered). */
export const NOOP_TRACER: Tracer = new ProxyTracer({ getDelegateTracer: () => undefined }, TRACER_NAME);

export const NO_TRACING: Tracing = { tracer: NOOP_TRACER, shutdown: async () => {} };

export type TracingExporterName = "none" | "console" | "otlp";

export interface TracingOptions {
  /**
   * Where spans go: a name from the configuration, or an exporter object (tests pass an InMemorySpanExporter,
   * which then receives each span as it ends).
   */
  readonly exporter: TracingExporterName | SpanExporter;
  /** Base URL of an OTLP/HTTP collector (`/v1/traces` is appended); required for `otlp`. */
  readonly otlpEndpoint?: string;
  /** Share of new traces recorded, 0..1 (spec §3 "Sampling"). */
  readonly sampleRatio: number;
  /** `service.instance.id`: the node id. */
  readonly instance: string;
  /** The process's role (`all`, `gateway`, ...), as `messaging.role`. */
  readonly role: string;
  /** Told when the final flush fails (an unreachable collector); absent = ignored. */
  readonly onExportError?: (error: unknown) => void;
  /** Where `console` writes its span lines; absent: stdout through a logger of its own. */
  readonly logger?: Pick<Logger, "info">;
}

/** Budget of one OTLP export: bounds how long a stopping process waits for a collector that does not answer. */
const OTLP_EXPORT_TIMEOUT_MS = 5_000;

/**
 * Sampling: a new trace is recorded with probability `sampleRatio`, decided from its trace id, so every
 * process with the same ratio takes the same decision for a trace whatever hop it sees first. A parent
 * that says "sampled" (the upstream hop recorded it, or a client asked for its trace) is always followed.
 * "100% for errors" would need tail sampling in a collector: a head sampler cannot know the outcome.
 */
export function createTracing(options: TracingOptions): Tracing {
  if (options.exporter === "none") return NO_TRACING;
  const ratio = new TraceIdRatioBasedSampler(options.sampleRatio);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: SERVICE_NAME,
      [ATTR_SERVICE_VERSION]: SERVICE_VERSION,
      [ATTR_SERVICE_INSTANCE_ID]: options.instance,
      "messaging.role": options.role,
    }),
    sampler: new ParentBasedSampler({ root: ratio, remoteParentNotSampled: ratio }),
    spanProcessors: [processorFor(options)],
  });
  let stopped: Promise<void> | undefined;
  return {
    tracer: provider.getTracer(TRACER_NAME, SERVICE_VERSION),
    shutdown: () => {
      stopped ??= provider.shutdown().catch((error: unknown) => options.onExportError?.(error));
      return stopped;
    },
  };
}

function processorFor(options: TracingOptions): SpanProcessor {
  const { exporter } = options;
  if (typeof exporter !== "string") return new SimpleSpanProcessor({ exporter });
  switch (exporter) {
    case "console":
      // Each span, as it ends, one JSON log line beside the others (the default when no collector is named).
      return new SimpleSpanProcessor({
        exporter: new LogSpanExporter(options.logger ?? createLogger({ level: "info" })),
      });
    case "otlp": {
      const base = options.otlpEndpoint;
      if (base === undefined) {
        throw new AppError("CONFIG_INVALID", "TRACING_EXPORTER=otlp needs OTEL_EXPORTER_OTLP_ENDPOINT", {
          details: { option: "OTEL_EXPORTER_OTLP_ENDPOINT" },
        });
      }
      return new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({
          url: `${base.replace(/\/+$/, "")}/v1/traces`,
          timeoutMillis: OTLP_EXPORT_TIMEOUT_MS,
        }),
      });
    }
    case "none":
      throw new AppError("INTERNAL_ERROR", "no span processor without an exporter", { public: false });
  }
}

/** The tracing the configuration asks for (options TRACING_EXPORTER, TRACING_SAMPLE_RATIO, OTEL_EXPORTER_OTLP_ENDPOINT). */
export function tracingFromConfig(config: Config, logger: Logger): Tracing {
  return createTracing({
    logger: logger.child({ component: "tracing" }),
    onExportError: (error) => logger.warn({ err: error }, "the last spans could not be exported"),
    exporter: config.tracingExporter,
    ...(config.otelExporterOtlpEndpoint === undefined
      ? {}
      : { otlpEndpoint: config.otelExporterOtlpEndpoint }),
    sampleRatio: config.tracingSampleRatio,
    instance: config.nodeId,
    role: config.role,
  });
}
