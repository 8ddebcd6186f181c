import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import { describe, expect, it } from 'vitest';
import { lazyRequestLogger } from '../src/http/request-logger.js';
import { createLogger } from '../src/observability/index.js';

/** A real pino logger writing JSON lines into an array, counting the children made from it. */
function capturingLogger(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger(
    { name: 'test', level },
    { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  let children = 0;
  const child = logger.child.bind(logger);
  logger.child = ((...args: Parameters<typeof child>) => {
    children++;
    return child(...args);
  }) as typeof logger.child;
  return { logger: logger as FastifyBaseLogger, lines, children: () => children };
}

describe('lazyRequestLogger', () => {
  it('makes the child on the first log call only, and its lines carry the bindings', () => {
    const { logger, lines, children } = capturingLogger();
    const request = lazyRequestLogger(logger, { request_id: 'req_1' }, {});
    expect(request.level).toBe('info');
    expect(children()).toBe(0);
    request.warn({ detail: 'x' }, 'first');
    request.error('second %s', 'arg');
    expect(children()).toBe(1);
    expect(lines).toMatchObject([
      { level: 40, request_id: 'req_1', detail: 'x', msg: 'first' },
      { level: 50, request_id: 'req_1', msg: 'second arg' },
    ]);
  });

  it("is Fastify's request logger: a route's log line names its request id", async () => {
    const { logger, lines, children } = capturingLogger();
    const app = Fastify({
      loggerInstance: logger,
      logController: new LogController({ disableRequestLogging: true }),
      childLoggerFactory: lazyRequestLogger,
    });
    app.get('/quiet', async () => 'ok');
    app.get('/loud', async (request) => {
      request.log.warn('from the route');
      return 'ok';
    });
    await app.ready();
    const atStart = children(); // Fastify's own (plugin loggers), not per request
    await app.inject({ url: '/quiet' });
    await app.inject({ url: '/quiet' });
    expect(children()).toBe(atStart); // a request that does not log makes no child
    const response = await app.inject({ url: '/loud' });
    expect(response.statusCode).toBe(200);
    expect(children()).toBe(atStart + 1);
    expect(lines).toMatchObject([{ msg: 'from the route', reqId: expect.any(String) }]);
    await app.close();
  });
});
