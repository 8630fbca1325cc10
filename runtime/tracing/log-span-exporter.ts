import { type ExportResult, ExportResultCode, hrTimeToMilliseconds } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";
import type { Logger } from "../logger.js";

/**
 * The console exporter of this project: each finished span as one structured log line (`msg: "span"`) through
 * the process's pino logger, so stdout stays one JSON object per line and a span sits beside the log lines of
 * the same request (same `trace_id`). OpenTelemetry's own ConsoleSpanExporter prints multi-line objects.
 */
export class LogSpanExporter implements SpanExporter {
  constructor(private readonly logger: Pick<Logger, "info">) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    for (const span of spans) {
      const context = span.spanContext();
      this.logger.info(
        {
          trace_id: context.traceId,
          span_id: context.spanId,
          parent_span_id: span.parentSpanContext?.spanId,
          span: span.name,
          duration_ms: Math.round(hrTimeToMilliseconds(span.duration) * 1000) / 1000,
          status: span.status.code === 2 ? "error" : "ok",
          ...(span.status.message === undefined ? {} : { error: span.status.message }),
          attributes: span.attributes,
          ...(span.links.length === 0 ? {} : { links: span.links.map((link) => link.context.spanId) }),
        },
        "span",
      );
    }
    done({ code: ExportResultCode.SUCCESS });
  }

  async shutdown(): Promise<void> {}

  async forceFlush(): Promise<void> {}
}
