import { create, type DescMessage, type Message, type MessageShape, toBinary } from '@bufbuild/protobuf';
import { BinaryReader, type WireType } from '@bufbuild/protobuf/wire';
import { createContextKey, type HandlerContext } from '@connectrpc/connect';
import { perObject } from '../runtime/per-object.js';

/**
 * Pre-encoded responses for the hot streaming paths (issue 13). Connect serializes every response
 * with @bufbuild/protobuf's toBinary, which writes a message's unknown fields ($unknown) as raw
 * bytes after its known ones. A message whose fields all live in $unknown therefore goes out as
 * bytes encoded once, elsewhere — once per change for every WatchConfig stream, or straight from
 * the stored text for the event reads — and decodes on the client to the ordinary message
 * (protobuf decoders accept fields in any order and merge repeated ones).
 *
 * JSON has no unknown fields: such a message would go out empty. Only use it when
 * `encodesBinary(ctx)` says the call's codec is binary protobuf.
 */

const BINARY_CONTENT_TYPES = new Set([
  'application/grpc',
  'application/grpc+proto',
  'application/grpc-web',
  'application/grpc-web+proto',
  'application/proto',
  'application/connect+proto',
]);

/**
 * Set by the direct gRPC path (grpc-direct-path.ts), which serves binary protobuf only: the answer
 * is known without building the call's request Headers from the raw HTTP/2 headers just to read its
 * content type (a Headers object per call: garbage for every GetConfig, memory for every watch).
 */
export const binaryCodecKey = createContextKey(false, {
  description: 'the call is answered in binary protobuf',
});

/** Whether the call's responses go out in the binary protobuf codec (gRPC, gRPC-Web, Connect +proto). */
export function encodesBinary(ctx: HandlerContext): boolean {
  if (ctx.values.get(binaryCodecKey)) return true;
  // A Connect GET carries its codec as a query parameter, not a content type: ordinary path.
  const type = ctx.requestHeader.get('content-type');
  if (type === null) return false;
  return BINARY_CONTENT_TYPES.has((type.split(';', 1)[0] ?? '').trim().toLowerCase());
}

/** One unknown-field entry: toBinary writes the tag of (no, wireType), then `data` as is. */
export interface RawFields {
  no: number;
  wireType: WireType;
  data: Uint8Array;
}

/**
 * `encoded` (the complete binary form of messages of `schema`, one or more fields) as one
 * unknown-field entry: its first tag is split off for toBinary to write back. undefined for no bytes.
 */
export function rawFields(encoded: Uint8Array): RawFields | undefined {
  if (encoded.length === 0) return undefined;
  const reader = new BinaryReader(encoded);
  const [no, wireType] = reader.tag();
  return { no, wireType, data: encoded.subarray(reader.pos) };
}

/** `message` that toBinary writes with `fields` after its known fields. */
export function withRawFields<M extends Message>(message: M, fields: RawFields | undefined): M {
  if (fields !== undefined) message.$unknown = [...(message.$unknown ?? []), fields];
  return message;
}

/** The messages made by preEncoded: complete and never changed again, so shareable as bytes. */
const shared = new WeakSet<object>();

/** `message` encoded once, as a message of the same schema that toBinary copies out as those bytes. */
export function preEncoded<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
): MessageShape<Desc> {
  const encoded = withRawFields(create(schema), rawFields(toBinary(schema, message)));
  shared.add(encoded);
  return encoded;
}

/**
 * Whether `message` came from preEncoded: the same object goes out on many streams (a change to
 * every WatchConfig stream), so a writer may frame it once and send those bytes on each.
 */
export function isPreEncoded(message: object): boolean {
  return shared.has(message);
}

/**
 * The message for a key object, built once per object and, for binary codecs, encoded once
 * (preEncoded), for values answered many times: one change to every WatchConfig stream, one cached
 * entry to every GetConfig. The key must not change while it is in use (values, replaced whole).
 */
export function messagePerObject<K extends object, Desc extends DescMessage>(
  schema: Desc,
  build: (key: K) => MessageShape<Desc>,
): (key: K, binary: boolean) => MessageShape<Desc> {
  const message = perObject(build);
  const encoded = perObject((key: K) => preEncoded(schema, message(key)));
  return (key, binary) => (binary ? encoded(key) : message(key));
}
