import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const ACCEPTABLE = /^[\w.:@-]{1,128}$/;

/** 16 random hex digits. randomUUID draws from a pre-filled entropy pool, unlike randomBytes per call. */
function randomHex16(): string {
  const uuid = randomUUID();
  // Groups 1, 2 and 5 of the UUID: no version or variant nibbles, so every digit is random.
  return `${uuid.slice(0, 8)}${uuid.slice(9, 13)}${uuid.slice(24, 28)}`;
}

/** SPEC §4: reuse the caller's X-Request-Id when it is sane, else mint `req_<hex>`. */
export function requestIdFor(req: IncomingMessage | { headers: Record<string, unknown> }): string {
  const incoming = req.headers['x-request-id'];
  if (typeof incoming === 'string' && ACCEPTABLE.test(incoming)) return incoming;
  return `req_${randomHex16()}`;
}
