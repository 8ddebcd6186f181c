import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const ACCEPTABLE = /^[\w.:@-]{1,128}$/;

/** SPEC §4: reuse the caller's X-Request-Id when it is sane, else mint `req_<hex>`. */
export function requestIdFor(req: IncomingMessage | { headers: Record<string, unknown> }): string {
  const incoming = req.headers['x-request-id'];
  if (typeof incoming === 'string' && ACCEPTABLE.test(incoming)) return incoming;
  return `req_${randomBytes(8).toString('hex')}`;
}
