import type { DescMethodServerStreaming, DescMethodUnary, MessageShape } from '@bufbuild/protobuf';
import { toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { compressedFlag } from '@connectrpc/connect/protocol';
import type { compressionGzip } from '@connectrpc/connect-node';
import { isPreEncoded } from './pre-encoded.js';

/** gRPC's length-prefixed message framing (flags byte + 4-byte length), as Connect writes it. */
export const ENVELOPE_HEADER_BYTES = 5;

export type FramedMethod = DescMethodUnary | DescMethodServerStreaming;
export type Compression = typeof compressionGzip;

/** Framed pre-encoded messages, by message (pre-encoded.ts); dropped with the message. */
const sharedEnvelopes = new WeakMap<object, Uint8Array>();

/**
 * One response message framed for the wire: synchronous unless it is compressed (Connect's
 * compressors are asynchronous), so a stream writer can write it in the same call.
 */
export function encodeEnvelope(
  method: FramedMethod,
  message: MessageShape<FramedMethod['output']>,
  compression: Compression | null,
  compressMinBytes: number,
): Uint8Array | Promise<Uint8Array> {
  // One pre-encoded change goes to every WatchConfig stream: framed once, the same bytes on each.
  const shared = isPreEncoded(message);
  if (shared) {
    const framed = sharedEnvelopes.get(message);
    if (framed !== undefined) return framed;
  }
  let data: Uint8Array;
  try {
    data = toBinary(method.output, message);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConnectError(`serialize binary: ${reason}`, Code.Internal);
  }
  if (compression !== null && data.byteLength >= compressMinBytes) {
    return compression.compress(data).then((compressed) => frame(compressedFlag, compressed));
  }
  const envelope = frame(0, data);
  // Only uncompressed frames are shared: compression depends on what each caller accepts.
  if (shared) sharedEnvelopes.set(message, envelope);
  return envelope;
}

function frame(flags: number, data: Uint8Array): Uint8Array {
  const envelope = Buffer.allocUnsafe(ENVELOPE_HEADER_BYTES + data.byteLength);
  envelope.writeUInt8(flags, 0);
  envelope.writeUInt32BE(data.byteLength, 1);
  envelope.set(data, ENVELOPE_HEADER_BYTES);
  return envelope;
}
