import {
  type Context,
  context,
  defaultTextMapGetter,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
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
      // Only a recording span exports anything; without one, redacting (which reads the stack, and
      // with source maps formats it) cost a tenth of the event-store's CPU under version conflicts.
      if (span.isRecording()) {
        // Span events are exported: no SQL parameter values in them (issue 10 finding 11).
        const redacted = redactError(error);
        span.recordException(redacted instanceof Error ? redacted : String(error));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      throw error;
    } finally {
      span.end();
    }
  });
}

const w3c = new W3CTraceContextPropagator();

/**
 * Runs `fn` in the trace context of an incoming request's W3C `traceparent` (and `tracestate`)
 * header, so the spans opened while serving it continue the caller's trace (SPEC §7). Without the
 * header, or without a registered context manager (no tracing configured), `fn` just runs.
 */
export function withIncomingTrace<T>(headers: Record<string, string | string[] | undefined>, fn: () => T): T {
  if (headers.traceparent === undefined) return fn();
  const incoming: Context = w3c.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
  return context.with(incoming, fn);
}
