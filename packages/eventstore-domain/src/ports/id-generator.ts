export interface IdGenerator {
  /** A new random UUID: an event id the client left out, a snapshot id. */
  newId(): string;
}

export const randomUuids: IdGenerator = { newId: () => crypto.randomUUID() };
