import { type Span, SpanStatusCode } from "@opentelemetry/api";
import { toAppError } from "../errors.js";

/**
 * Marks a span failed with the error's AppError code (`error.type`, the one taxonomy of runtime/errors.ts).
 * Only the code and the message go into the span: causes may name hosts and stay in the logs.
 */
export function failSpan(span: Span, error: unknown): void {
  const appError = toAppError(error);
  span.setAttribute("error.type", appError.code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: appError.message });
}

/** Runs `work` as the lifetime of `span`: ended when it settles, failed when it throws. */
export async function withinSpan<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}
