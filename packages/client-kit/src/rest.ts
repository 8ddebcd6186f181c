import type { TokenGetter } from './auth.js';
import { errorFromStatus, toK1s0Error } from './errors.js';

export interface RestClient {
  /** JSON request; resolves with the parsed body (undefined for 204), throws K1s0Error otherwise. */
  request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T>;
}

/** Minimal JSON client for the services' REST API (`/api/v1/...`) with the bearer token. */
export function restClient(baseUrl: string, getToken: TokenGetter, timeoutMs = 30_000): RestClient {
  const root = baseUrl.replace(/\/+$/, '');
  async function once<T>(
    method: string,
    path: string,
    body: unknown,
    signal: AbortSignal | undefined,
    refresh: boolean,
  ) {
    const headers: Record<string, string> = { authorization: `Bearer ${await getToken(refresh)}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    // A half-dead connection must not hang a caller forever: the request and its body read end
    // after timeoutMs. Not AbortSignal.any: on Node 22 a signal combined with the caller's
    // long-lived one stays reachable from it, so a client process would leak with every request.
    const request = new AbortController();
    const timer = setTimeout(
      () => request.abort(new DOMException('request timed out', 'TimeoutError')),
      timeoutMs,
    );
    const onCallerAbort = () => request.abort(signal?.reason);
    if (signal?.aborted) onCallerAbort();
    signal?.addEventListener('abort', onCallerAbort, { once: true });
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${root}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: request.signal,
      });
      text = await response.text();
    } catch (error) {
      throw toK1s0Error(error);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onCallerAbort);
    }
    const parsed: unknown = text === '' ? undefined : JSON.parse(text);
    if (!response.ok)
      throw errorFromStatus(response.status, parsed, response.headers.get('x-request-id') ?? undefined);
    return parsed as T;
  }
  return {
    async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
      try {
        return await once<T>(method, path, body, signal, false);
      } catch (error) {
        // A token that expired between minting and use: one retry with a fresh one.
        if ((error as { kind?: string }).kind === 'unauthenticated')
          return once<T>(method, path, body, signal, true);
        throw error;
      }
    },
  };
}
