/**
 * OpenTelemetry spans around a training job and each of its stages, for
 * Deno's built-in export (`OTEL_DENO=true`, README "Monitoring"). Without
 * it, `@opentelemetry/api` has no tracer provider and hands out
 * non-recording spans: a few object allocations per stage, nothing
 * exported, nothing to configure.
 *
 * @module
 */
import { type Attributes, type Span, SpanStatusCode, trace } from "@opentelemetry/api";

const tracer = trace.getTracer("wattcast");

/**
 * Runs `work` inside a span named `name` (a child of the span active when
 * called): its error, if any, is recorded on the span and thrown on.
 */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  return await tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}
