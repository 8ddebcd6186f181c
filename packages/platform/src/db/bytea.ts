import { customType } from 'drizzle-orm/pg-core';

/** bytea ⇄ Uint8Array (drizzle-orm 0.45 has no built-in bytea column). */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  toDriver: (value) => Buffer.from(value.buffer, value.byteOffset, value.byteLength),
  fromDriver: (value) => new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
});
