import { unauthenticated } from './auth-errors.js';

// RFC 6750 b64token characters; the scheme name is case-insensitive (RFC 7235).
export const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Extracts the token from an `Authorization: Bearer <token>` header value. */
export function bearerToken(header: string | undefined): string {
  if (header === undefined || header === '') throw unauthenticated('missing bearer token');
  const match = BEARER.exec(header);
  if (!match?.[1]) throw unauthenticated('malformed authorization header');
  return match[1];
}
