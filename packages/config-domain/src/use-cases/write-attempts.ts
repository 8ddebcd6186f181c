/**
 * How often a write whose compare-and-set lost (ConfigWriter returned `conflict`) is retried from a
 * fresh read. The fresh decision normally settles it (the version moved → VERSION_CONFLICT, the
 * key vanished → KEY_NOT_FOUND); a retry only succeeds when the state the caller asked about came
 * back, and the bound keeps a hot key (or a faulty adapter) from looping forever.
 */
export const MAX_WRITE_ATTEMPTS = 3;
