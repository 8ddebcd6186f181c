export interface IdGenerator {
  /** A new UUID for an entry or a change-log row. */
  newId(): string;
}

export const randomUuids: IdGenerator = { newId: () => crypto.randomUUID() };
