/** A JSON value as stored by config-server (never `null` at the top level of an entry). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type ChangeType = 'CREATED' | 'UPDATED' | 'DELETED';

/** One change as the client applied it to its snapshot. */
export interface ConfigChange {
  readonly namespace: string;
  readonly key: string;
  readonly changeType: ChangeType;
  /** Value before the change (undefined when the key did not exist). */
  readonly oldValue: JsonValue | undefined;
  /** Value after the change (undefined when the key was deleted). */
  readonly newValue: JsonValue | undefined;
  readonly oldVersion: number;
  readonly newVersion: number;
  /**
   * Who made the change (token email / username / sub). Undefined for a `resync` change: the
   * client found the difference by comparing snapshots and the server's change log is not consulted.
   */
  readonly actor: string | undefined;
  /** Commit time (RFC 3339), undefined for a `resync` change. */
  readonly changedAt: string | undefined;
  /** The change's global revision, undefined for a `resync` change. */
  readonly revision: number | undefined;
  /** `watch`: delivered by WatchConfig; `resync`: found when the snapshot was fetched again. */
  readonly source: 'watch' | 'resync';
}

/**
 * - `connecting`: first sync in progress, nothing to serve yet.
 * - `live`: snapshot current and the watch stream is open.
 * - `reconnecting`: the stream broke; values served are the last ones seen, the client is catching up.
 * - `stale`: the server was unreachable at start-up; values come from the last-known-good cache file.
 * - `closed`: `close()` was called.
 */
export type ClientStatus = 'connecting' | 'live' | 'reconnecting' | 'stale' | 'closed';

export interface StatusEvent {
  readonly status: ClientStatus;
  /** The error that caused `reconnecting` / `stale`, when there was one. */
  readonly error?: Error | undefined;
  /** For `stale`: when the cache file being served was written (RFC 3339). */
  readonly cacheSavedAt?: string | undefined;
}

/** A value that failed the schema a typed `get` asked for; the last good value is served instead. */
export interface InvalidValueEvent {
  readonly namespace: string;
  readonly key: string;
  readonly value: JsonValue;
  readonly version: number;
  readonly issues: readonly { readonly message: string; readonly path?: readonly unknown[] | undefined }[];
}

/**
 * The Standard Schema interface (https://standardschema.dev) that zod 4 (and valibot, arktype)
 * schemas implement: typed reads accept any of them without this package depending on one.
 */
export interface StandardSchema<Output = unknown> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: unknown; readonly output: Output } | undefined;
  };
}

export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | {
      readonly issues: readonly {
        readonly message: string;
        readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined;
      }[];
    };
