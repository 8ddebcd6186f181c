export interface IdGenerator {
  /** A fresh random UUID (e.g. `crypto.randomUUID()`); used for event ids and snapshot ids. */
  uuid(): string;
}
