/**
 * `traced` without a tracer provider runs the use case as is; a provider registered afterwards
 * (startTracingExport at boot, after the first call) gets a span for every call from then on.
 */
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, describe, expect, it } from 'vitest';
import { traced } from '../src/observability/tracing.js';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });

afterAll(async () => {
  await provider.shutdown();
  trace.disable();
});

describe('traced', () => {
  it('without a provider: the value, the rejection, and a synchronous throw as a rejection', async () => {
    await expect(traced('t.ok', async () => 42)).resolves.toBe(42);
    await expect(traced('t.fails', async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    const throwsAtOnce = (): Promise<number> => {
      throw new Error('at once');
    };
    const result = traced('t.sync', throwsAtOnce);
    expect(result).toBeInstanceOf(Promise);
    await expect(result).rejects.toThrow('at once');
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('a provider registered after the first calls records a span per call, failures as errors', async () => {
    trace.setGlobalTracerProvider(provider);
    await expect(traced('t.after', async () => 'v')).resolves.toBe('v');
    await expect(traced('t.after-fail', async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => span.name)).toEqual(['t.after', 't.after-fail']);
    expect(spans[1]?.status.code).toBe(2); // SpanStatusCode.ERROR
    expect(JSON.stringify(spans[1]?.events)).toContain('exception');
  });
});
