import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';

/**
 * Supplies bearer tokens. Called before every request and stream (cache in the provider if minting
 * is costly); `forceRefresh` is true after the server answered UNAUTHENTICATED / 401 once.
 */
export type TokenProvider = (context: { forceRefresh: boolean }) => string | Promise<string>;

/** Either a fixed token or a provider (one is required). */
export interface TokenOptions {
  readonly token?: string | undefined;
  readonly tokenProvider?: TokenProvider | undefined;
}

export interface TokenGetter {
  (forceRefresh?: boolean): Promise<string>;
  /** The server refused the current token: the next call asks the provider for a fresh one. */
  invalidate(): void;
}

export function tokenGetter(options: TokenOptions): TokenGetter {
  const { token, tokenProvider } = options;
  if (tokenProvider !== undefined) {
    let stale = false;
    const get = async (forceRefresh = false) => {
      const force = forceRefresh || stale;
      stale = false;
      return tokenProvider({ forceRefresh: force });
    };
    return Object.assign(get, {
      invalidate() {
        stale = true;
      },
    });
  }
  if (token !== undefined && token !== '') return Object.assign(async () => token, { invalidate() {} });
  throw new TypeError('token or tokenProvider is required');
}

function isUnauthenticated(error: unknown): boolean {
  return error instanceof ConnectError && error.code === Code.Unauthenticated;
}

/**
 * Connect interceptor adding `authorization: Bearer …`; a unary call answered UNAUTHENTICATED is
 * repeated once with a refreshed token. A stream cannot be repeated here (its reconnect loop
 * re-opens it), so a stream refused with UNAUTHENTICATED marks the token stale instead: the
 * re-open then carries a fresh one rather than the same expired token forever.
 */
export function authInterceptor(getToken: TokenGetter): Interceptor {
  return (next) => async (request) => {
    request.header.set('authorization', `Bearer ${await getToken(false)}`);
    if (request.stream) {
      try {
        const response = await next(request);
        if (!response.stream) return response;
        return { ...response, message: invalidatingOnRefusal(response.message, getToken) };
      } catch (error) {
        if (isUnauthenticated(error)) getToken.invalidate();
        throw error;
      }
    }
    try {
      return await next(request);
    } catch (error) {
      if (!isUnauthenticated(error)) throw error;
      request.header.set('authorization', `Bearer ${await getToken(true)}`);
      return next(request);
    }
  };
}

async function* invalidatingOnRefusal<T>(
  messages: AsyncIterable<T>,
  getToken: TokenGetter,
): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (error) {
    if (isUnauthenticated(error)) getToken.invalidate();
    throw error;
  }
}
