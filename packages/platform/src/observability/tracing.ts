import {
  type Context,
  context,
  defaultTextMapGetter,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { redactError } from './redact-error.js';

const tracer = trace.getTracer('k1s0');

let sdkRegistered = false;

/**
 * Whether a tracer provider (an SDK) is registered. Until one is, the API's no-op tracer would
 * still make a span object, a context and an async wrapper per use case: a few per cent of a cached
 * read's CPU and allocations, for nothing exported. Once seen, it is assumed to stay (the API's
 * proxy falls back to no-op itself if it is later disabled).
 */
function sdkIsRegistered(): boolean {
  if (sdkRegistered) return true;
  const provider = trace.getTracerProvider();
  sdkRegistered =
    !(provider instanceof ProxyTracerProvider) || provider.getDelegateTracer('k1s0') !== undefined;
  return sdkRegistered;
}

/**
 * Runs `fn` inside an active span named `name` (SPEC §7: spans around every use case). Without a
 * registered SDK it just runs `fn`: nothing would be recorded or propagated.
 */
export function traced<T>(name: string, fn: () => Promise<T>): Promise<T> {
  if (!sdkIsRegistered()) {
    try {
      return fn();
    } catch (error) {
      return Promise.reject(error);
    }
  }
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
