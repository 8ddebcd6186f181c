import { configError, type Database, type SecretCipher } from '@k1s0/platform';

/** The key id inside a sealed value stored as a JSON string (`k1s0e1.<key id>.…`). */
const keyIdOf = (column: string) => `split_part(${column} #>> '{}', '.', 2)`;

/** Every key-encryption key id that stored secrets (entries and change log) are wrapped with. */
export async function storedSecretKeyIds(database: Database): Promise<string[]> {
  const rows = await database.sql.unsafe<{ key_id: string }[]>(
    `select ${keyIdOf('value')} as key_id from config_server.config_entries where secret
     union select ${keyIdOf('old_value')} from config_server.config_change_logs where secret and old_value is not null
     union select ${keyIdOf('new_value')} from config_server.config_change_logs where secret and new_value is not null`,
  );
  return rows.map((row) => row.key_id).sort();
}

/**
 * Start-up check (SPEC §8 / issue 14: a missing key is a clear start-up error): every key id the
 * stored secrets name must be in the ring, and stored secrets need a ring at all. Throws a
 * ConfigError naming the key ids (never key material).
 */
export async function checkSecretKeys(database: Database, cipher: SecretCipher | undefined): Promise<void> {
  const ids = await storedSecretKeyIds(database);
  if (ids.length === 0) return;
  if (cipher === undefined) {
    throw configError([
      {
        field: 'config_server.secrets.keyring',
        message: `stored secrets are sealed with key id(s) ${ids.join(', ')}; set CONFIG_KEYRING or CONFIG_KEYRING_FILE`,
      },
    ]);
  }
  const missing = ids.filter((id) => !cipher.hasKey(id));
  if (missing.length > 0) {
    throw configError([
      {
        field: 'config_server.secrets.keyring',
        message: `stored secrets are sealed with key id(s) ${missing.join(', ')} missing from the key ring; add them back (after the new primary) until rekeying finished`,
      },
    ]);
  }
}

export interface RewrapResult {
  /** Values whose data key was re-wrapped with the primary key. */
  readonly rewrapped: number;
}

const BATCH = 200;

/**
 * Key rotation without downtime: re-wraps the data key of every stored secret (entries and change
 * log) that is not yet wrapped with the ring's primary key. The ciphertext of the value itself is
 * untouched and the plaintext is never formed. Each row is a compare-and-set on the sealed text,
 * so a concurrent write (which seals with the primary anyway) or another instance rewrapping at
 * the same time is simply skipped. Idempotent: a second run finds nothing to do.
 */
export async function rewrapSecrets(database: Database, cipher: SecretCipher): Promise<RewrapResult> {
  const { sql } = database;
  const primary = cipher.primaryKeyId;
  const rewrap = (sealed: string | null) => (sealed === null ? null : (cipher.rewrap(sealed) ?? sealed));
  let rewrapped = 0;
  let afterId = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await sql.unsafe<{ id: string; sealed: string }[]>(
      `select id, value #>> '{}' as sealed from config_server.config_entries
       where secret and ${keyIdOf('value')} <> $1 and id > $2 order by id limit ${BATCH}`,
      [primary, afterId],
    );
    for (const row of rows) {
      const updated = await sql`update config_server.config_entries
        set value = to_jsonb(${rewrap(row.sealed)}::text)
        where id = ${row.id} and secret and value = to_jsonb(${row.sealed}::text)`;
      rewrapped += updated.count;
    }
    const last = rows.at(-1);
    if (last === undefined || rows.length < BATCH) break;
    afterId = last.id;
  }
  afterId = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await sql.unsafe<{ id: string; old_sealed: string | null; new_sealed: string | null }[]>(
      `select id, old_value #>> '{}' as old_sealed, new_value #>> '{}' as new_sealed
       from config_server.config_change_logs
       where secret and id > $2
         and ((old_value is not null and ${keyIdOf('old_value')} <> $1)
           or (new_value is not null and ${keyIdOf('new_value')} <> $1))
       order by id limit ${BATCH}`,
      [primary, afterId],
    );
    for (const row of rows) {
      const updated = await sql`update config_server.config_change_logs
        set old_value = to_jsonb(${rewrap(row.old_sealed)}::text), new_value = to_jsonb(${rewrap(row.new_sealed)}::text)
        where id = ${row.id}
          and old_value is not distinct from to_jsonb(${row.old_sealed}::text)
          and new_value is not distinct from to_jsonb(${row.new_sealed}::text)`;
      rewrapped += updated.count;
    }
    const last = rows.at(-1);
    if (last === undefined || rows.length < BATCH) break;
    afterId = last.id;
  }
  return { rewrapped };
}
