import { SpanStatusCode, trace } from '@opentelemetry/api';
import { redactError } from './redact-error.js';

const tracer = trace.getTracer('k1s0');

/**
 * Runs `fn` inside an active span named `name` (SPEC §7: spans around every use case). Without a
 * registered SDK the API is a no-op, so this costs next to nothing until tracing is configured.
 */
export function traced<T>(name: string, fn: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, async (span) => {
    try {
      return await fn();
    } catch (error) {
      // Span events are exported: no SQL parameter values in them (issue 10 finding 11).
      const redacted = redactError(error);
      span.recordException(redacted instanceof Error ? redacted : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}
