/**
 * The few protobuf writing primitives the event read and append paths need to write `StoredEvent`
 * bytes without building messages (issue 13): sizes first, then one pass into one buffer.
 */

export function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

export const utf8Length = (s: string) => Buffer.byteLength(s, 'utf8');

/** Length-delimited field size: tag (1 byte here) + length prefix + bytes; proto3 leaves "" out. */
export function stringFieldSize(bytes: number): number {
  return bytes === 0 ? 0 : 1 + varintSize(bytes) + bytes;
}

/** An `optional string` field's size: present even when empty, absent when undefined. */
export function optionalSize(value: string | undefined): number {
  if (value === undefined) return 0;
  const bytes = utf8Length(value);
  return 1 + varintSize(bytes) + bytes;
}

/** Writes into a buffer sized beforehand. Tags are one byte (field numbers below 16). */
export class ProtoWriter {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  /** Non-negative integers up to 2^53 (sequences, versions, lengths). */
  varint(n: number): void {
    while (n >= 128) {
      this.buf[this.pos++] = (n % 128) | 128;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }

  /** A `string` field; proto3 leaves the empty string out. */
  string(tag: number, value: string): void {
    if (value === '') return;
    this.optional(tag, value);
  }

  /** An `optional string` field: written when defined, even empty. */
  optional(tag: number, value: string | undefined): void {
    if (value === undefined) return;
    this.byte(tag);
    const bytes = utf8Length(value);
    this.varint(bytes);
    this.pos += this.buf.write(value, this.pos, bytes, 'utf8');
  }

  /** ASCII text, one byte a character, written without an encoder call (short fields). */
  ascii(tag: number, value: string): void {
    this.byte(tag);
    this.varint(value.length);
    for (let i = 0; i < value.length; i++) this.buf[this.pos++] = value.charCodeAt(i);
  }
}
