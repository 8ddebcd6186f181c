import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

export interface TracingExportOptions {
  serviceName: string;
  serviceVersion: string;
  /** OTLP/HTTP base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`); spans go to `<endpoint>/v1/traces`. */
  otlpEndpoint: string;
}

export interface TracingExport {
  /** Exports what is still buffered, then stops; called last on shutdown. */
  shutdown(): Promise<void>;
}

/**
 * SPEC §7 "OTLP export when configured": registers a tracer provider that batches the spans the
 * services already open through @opentelemetry/api (one per use case) and posts them as OTLP/HTTP
 * JSON. Without an endpoint nothing is registered and the API stays a no-op.
 */
export function startTracingExport(options: TracingExportOptions): TracingExport {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': options.serviceName,
      'service.version': options.serviceVersion,
    }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: `${options.otlpEndpoint.replace(/\/+$/, '')}/v1/traces` }),
      }),
    ],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  return {
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
    },
  };
}
