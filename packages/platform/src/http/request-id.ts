import { randomFillSync } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const ACCEPTABLE = /^[\w.:@-]{1,128}$/;

/**
 * Random bytes drawn 4 KiB at a time (512 ids per draw), as randomUUID does internally: one call
 * into OpenSSL per 512 requests, and each id is one hex string, not a UUID string cut in three
 * and joined (5% of the bytes a cached REST read allocated).
 */
const pool = Buffer.alloc(4096);
let offset = pool.length;

/** 16 random hex digits. */
function randomHex16(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + 8);
  offset += 8;
  return hex;
}

/** SPEC §4: reuse the caller's X-Request-Id when it is sane, else mint `req_<hex>`. */
export function requestIdFor(req: IncomingMessage | { headers: Record<string, unknown> }): string {
  const incoming = req.headers['x-request-id'];
  if (typeof incoming === 'string' && ACCEPTABLE.test(incoming)) return incoming;
  return `req_${randomHex16()}`;
}
