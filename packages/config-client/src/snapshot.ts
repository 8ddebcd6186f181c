import type { ConfigChangeEvent } from '@k1s0/proto/k1s0/system/config/v1/config_pb';
import type { ChangeType, ConfigChange, JsonValue } from './types.js';

export interface StoredValue {
  readonly value: JsonValue;
  readonly version: number;
}

export interface SnapshotEntry extends StoredValue {
  readonly namespace: string;
  readonly key: string;
}

/** What a change event says happened to one key (the wire event, decoded). */
export interface IncomingChange {
  readonly namespace: string;
  readonly key: string;
  readonly changeType: ChangeType;
  readonly oldValue: JsonValue | undefined;
  readonly newValue: JsonValue | undefined;
  readonly oldVersion: number;
  readonly newVersion: number;
  readonly actor: string;
  readonly changedAt: string | undefined;
  readonly revision: number;
}

/** namespace -> key -> value; the in-memory state the client serves reads from. */
export class Snapshot {
  private readonly namespaces = new Map<string, Map<string, StoredValue>>();

  get(namespace: string, key: string): StoredValue | undefined {
    return this.namespaces.get(namespace)?.get(key);
  }

  entries(): SnapshotEntry[] {
    const out: SnapshotEntry[] = [];
    for (const [namespace, keys] of this.namespaces)
      for (const [key, stored] of keys) out.push({ namespace, key, ...stored });
    return out;
  }

  namespaceNames(): string[] {
    return [...this.namespaces.keys()];
  }

  keysOf(namespace: string): ReadonlyMap<string, StoredValue> | undefined {
    return this.namespaces.get(namespace);
  }

  private set(namespace: string, key: string, stored: StoredValue | undefined): void {
    let keys = this.namespaces.get(namespace);
    if (stored === undefined) {
      keys?.delete(key);
      if (keys?.size === 0) this.namespaces.delete(namespace);
      return;
    }
    if (keys === undefined) {
      keys = new Map();
      this.namespaces.set(namespace, keys);
    }
    keys.set(key, stored);
  }

  /**
   * Applies a change unless the snapshot already reflects it (the watch opened before the snapshot
   * was read, so early events may be older than the snapshot). Per-key versions decide: an upsert
   * counts when the key is absent or its version is newer; a delete when it removes the version held.
   */
  apply(change: IncomingChange): ConfigChange | undefined {
    const current = this.get(change.namespace, change.key);
    if (change.changeType === 'DELETED') {
      if (current === undefined || current.version !== change.oldVersion) return undefined;
      this.set(change.namespace, change.key, undefined);
    } else {
      if (change.newValue === undefined) return undefined;
      if (current !== undefined && current.version >= change.newVersion) return undefined;
      this.set(change.namespace, change.key, { value: change.newValue, version: change.newVersion });
    }
    return {
      namespace: change.namespace,
      key: change.key,
      changeType: change.changeType,
      oldValue: current?.value,
      newValue: change.changeType === 'DELETED' ? undefined : change.newValue,
      oldVersion: current?.version ?? 0,
      newVersion: change.changeType === 'DELETED' ? 0 : change.newVersion,
      actor: change.actor,
      changedAt: change.changedAt,
      revision: change.revision,
      source: 'watch',
    };
  }

  /** Replaces everything with `entries`, returning the differences as `resync` changes. */
  replace(entries: readonly SnapshotEntry[]): ConfigChange[] {
    const changes: ConfigChange[] = [];
    const next = new Map<string, SnapshotEntry>();
    for (const entry of entries) next.set(`${entry.namespace}\u0000${entry.key}`, entry);
    for (const old of this.entries()) {
      if (next.has(`${old.namespace}\u0000${old.key}`)) continue;
      changes.push(resyncChange(old.namespace, old.key, 'DELETED', old, undefined));
    }
    for (const entry of next.values()) {
      const old = this.get(entry.namespace, entry.key);
      if (old !== undefined && old.version === entry.version && sameJson(old.value, entry.value)) continue;
      changes.push(resyncChange(entry.namespace, entry.key, old ? 'UPDATED' : 'CREATED', old, entry));
    }
    this.namespaces.clear();
    for (const entry of next.values())
      this.set(entry.namespace, entry.key, { value: entry.value, version: entry.version });
    return changes;
  }
}

function resyncChange(
  namespace: string,
  key: string,
  changeType: ChangeType,
  old: StoredValue | undefined,
  next: StoredValue | undefined,
): ConfigChange {
  return {
    namespace,
    key,
    changeType,
    oldValue: old?.value,
    newValue: next?.value,
    oldVersion: old?.version ?? 0,
    newVersion: next?.version ?? 0,
    actor: undefined,
    changedAt: undefined,
    revision: undefined,
    source: 'resync',
  };
}

const sameJson = (a: JsonValue, b: JsonValue) => JSON.stringify(a) === JSON.stringify(b);

const decoder = new TextDecoder();
const decodeJson = (bytes: Uint8Array): JsonValue | undefined =>
  bytes.length === 0 ? undefined : (JSON.parse(decoder.decode(bytes)) as JsonValue);

/** Decodes a WatchConfig event (JSON bytes, Timestamp, int64 revision). */
export function incomingChange(event: ConfigChangeEvent): IncomingChange {
  const changeType =
    event.changeType === 'DELETED' ? 'DELETED' : event.changeType === 'CREATED' ? 'CREATED' : 'UPDATED';
  const at = event.changedAt;
  return {
    namespace: event.namespace,
    key: event.key,
    changeType,
    oldValue: decodeJson(event.oldValue),
    newValue: decodeJson(event.newValue),
    oldVersion: event.oldVersion,
    newVersion: event.newVersion,
    actor: event.changedBy,
    changedAt: at
      ? new Date(Number(at.seconds) * 1000 + Math.floor(at.nanos / 1e6)).toISOString()
      : undefined,
    revision: Number(event.revision),
  };
}
