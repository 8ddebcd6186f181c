import { type ClientHttp2Session, connect, constants } from 'node:http2';
import {
  create,
  type DescMessage,
  type DescMethodServerStreaming,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from '@bufbuild/protobuf';

/**
 * A server-streaming gRPC call read straight off node:http2: length-prefixed frames are split here
 * and each message decoded with protobuf-es. For fan-out measurements, where a full Connect client
 * per message costs the load CPU more than the server spends sending it, so the client, not the
 * server, would set the figure. Resolves when the stream ends; rejects on a non-OK status.
 */
export function rawServerStream<I extends DescMessage, O extends DescMessage>(
  session: ClientHttp2Session,
  method: DescMethodServerStreaming<I, O>,
  input: MessageInitShape<I>,
  token: string,
  onMessage: (message: MessageShape<O>) => void,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = session.request({
      ':method': 'POST',
      ':path': `/${method.parent.typeName}/${method.name}`,
      'content-type': 'application/grpc+proto',
      te: 'trailers',
      authorization: `Bearer ${token}`,
    });
    const body = toBinary(method.input, create(method.input, input));
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    frame.set(body, 5);
    request.end(frame);

    const onAbort = () => request.close(constants.NGHTTP2_CANCEL);
    signal.addEventListener('abort', onAbort, { once: true });
    let pending: Buffer = Buffer.alloc(0);
    let status: string | undefined;
    request.on('response', (headers) => {
      status = headers['grpc-status'] as string | undefined; // trailers-only responses
    });
    request.on('trailers', (trailers) => {
      status = trailers['grpc-status'] as string | undefined;
      if (status !== '0') status = `${status}: ${trailers['grpc-message'] ?? ''}`;
    });
    request.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 5) {
        const length = pending.readUInt32BE(1);
        if (pending.length < 5 + length) break;
        onMessage(fromBinary(method.output, pending.subarray(5, 5 + length)));
        pending = pending.subarray(5 + length);
      }
    });
    request.on('close', () => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted || status === '0') resolve();
      else reject(new Error(`gRPC stream ended with status ${status ?? `rst ${request.rstCode}`}`));
    });
    request.on('error', (error) => {
      if (!signal.aborted) reject(error);
    });
  });
}

/** `count` HTTP/2 sessions to `baseUrl` (closed by `closeSessions`). */
export function rawSessions(baseUrl: string, count: number): ClientHttp2Session[] {
  return Array.from({ length: count }, () => connect(baseUrl));
}

export function closeSessions(sessions: ClientHttp2Session[]): void {
  for (const session of sessions) session.close();
}
