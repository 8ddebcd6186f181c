import { type ConfigValue, configErrors } from '@k1s0/config-domain';
import type { SecretCipher } from '@k1s0/platform';

/**
 * How values of secret entries are kept in the `jsonb` value columns: as a JSON string holding the
 * sealed envelope (platform EnvelopeCipher: AES-256-GCM data key per value, wrapped by the key
 * ring's primary key). Bound to `namespace/key`, so an envelope moved to another key won't open.
 * Plain values are stored as they are. Plaintext exists only in memory.
 */
export class SecretValues {
  /** `cipher` is undefined when no key ring is configured (outside dev/test): secrets are refused. */
  constructor(readonly cipher: SecretCipher | undefined) {}

  /** The column value for `value`. */
  toStored(value: ConfigValue, secret: boolean, namespace: string, key: string): ConfigValue;
  toStored(value: ConfigValue | null, secret: boolean, namespace: string, key: string): ConfigValue | null;
  toStored(value: ConfigValue | null, secret: boolean, namespace: string, key: string): ConfigValue | null {
    if (value === null || !secret) return value;
    if (this.cipher === undefined) throw noKeyRing();
    return this.cipher.seal(JSON.stringify(value), context(namespace, key));
  }

  /** The value a column holds; throws SecretKeyMissingError (naming the key id) if its key is gone. */
  fromStored(stored: ConfigValue, secret: boolean, namespace: string, key: string): ConfigValue;
  fromStored(stored: ConfigValue | null, secret: boolean, namespace: string, key: string): ConfigValue | null;
  fromStored(
    stored: ConfigValue | null,
    secret: boolean,
    namespace: string,
    key: string,
  ): ConfigValue | null {
    if (stored === null || !secret) return stored;
    if (this.cipher === undefined) throw noKeyRing();
    if (typeof stored !== 'string')
      throw new Error(`secret value of ${context(namespace, key)} is not sealed`);
    return JSON.parse(this.cipher.open(stored, context(namespace, key))) as ConfigValue;
  }
}

const context = (namespace: string, key: string) => `${namespace}/${key}`;

/**
 * Without a key ring a secret can't be stored (outside dev/test; in dev/test the public development
 * key is used). A client error rather than a fault: this server is configured not to keep secrets.
 */
function noKeyRing() {
  return configErrors.validationFailed([
    {
      field: 'secret',
      message: 'この環境には鍵リング（CONFIG_KEYRING）が設定されていないため secret を保存できません',
    },
  ]);
}
