import { trace } from '@opentelemetry/api';
import { type Logger, pino } from 'pino';
import { redactError } from './redact-error.js';

export type { Logger } from 'pino';

/** Paths that may carry credentials; pino replaces them so tokens never reach the logs. */
const REDACT = [
  'req.headers.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'authorization',
  '*.authorization',
  // API keys (SPEC §8): the secret is only ever in the Authorization header, or in the create
  // answer's `key`, which is never logged; these catch a key passed around by name.
  'apiKey',
  '*.apiKey',
  'api_key',
  '*.api_key',
  'token',
  '*.token',
  'password',
  '*.password',
];

/** JSON logs with the active trace id on every line (SPEC §7). */
export function createLogger(
  options: { name: string; level: string },
  destination?: pino.DestinationStream,
): Logger {
  const settings: pino.LoggerOptions = {
    name: options.name,
    level: options.level,
    redact: { paths: REDACT, censor: '[redacted]' },
    // Errors without SQL parameter values (redactError), then pino's usual error shape.
    serializers: {
      err: (error: unknown) => pino.stdSerializers.errWithCause(redactError(error) as Error),
      error: (error: unknown) => pino.stdSerializers.errWithCause(redactError(error) as Error),
    },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin() {
      const span = trace.getActiveSpan();
      return span ? { trace_id: span.spanContext().traceId } : {};
    },
  };
  return destination ? pino(settings, destination) : pino(settings);
}
