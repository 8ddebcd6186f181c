export interface IdGenerator {
  /** A new random UUID: an entry id, a change-log row id. */
  newId(): string;
}

export const randomUuids: IdGenerator = { newId: () => crypto.randomUUID() };
