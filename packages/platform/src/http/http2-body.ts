import { constants as http2Constants, type ServerHttp2Stream } from 'node:http2';

/**
 * The two rules for an HTTP/2 request body, shared by Connect's routes (connect-gate.ts) and the
 * direct gRPC path (grpc-direct-path.ts).
 */

/** How long a body may keep arriving after the answer was sent. */
const UNREAD_BODY_GRACE_MS = 1_000;

/**
 * HTTP/2 has no request timer (HTTP/1.1 has Node's requestTimeout): a stream whose body has not
 * fully arrived within `ms` is reset (CANCEL) and `onTimeout` reports it. Returns the disarm.
 */
export function armHttp2BodyTimeout(
  stream: ServerHttp2Stream,
  ms: number,
  onTimeout: () => void,
): () => void {
  if (ms <= 0 || stream.readableEnded) return () => {};
  const timer = setTimeout(() => {
    if (!stream.readableEnded && !stream.destroyed) {
      onTimeout();
      stream.close(http2Constants.NGHTTP2_CANCEL);
    }
  }, ms);
  timer.unref();
  const disarm = () => clearTimeout(timer);
  stream.once('end', disarm);
  stream.once('close', disarm);
  return disarm;
}

/**
 * After an early answer (a refusal before the body was read) the body is not waited for: a body
 * still arriving after a grace period is cut with RST_STREAM(NO_ERROR).
 */
export function cutUnreadBodyAfterGrace(stream: ServerHttp2Stream): void {
  if (stream.readableEnded || stream.destroyed) return;
  const timer = setTimeout(() => {
    if (!stream.destroyed && !stream.readableEnded) stream.close(http2Constants.NGHTTP2_NO_ERROR);
  }, UNREAD_BODY_GRACE_MS);
  timer.unref();
}
