/** LISTEN/NOTIFY channel announcing committed changes to every instance. */
export const CHANGE_CHANNEL = 'config_server_changed';

/** Payload of a change notification: JSON `{namespace, key, revision}`. */
export interface ChangeNotification {
  readonly namespace: string;
  readonly key: string;
  readonly revision: bigint;
}

/** Revision written as a JSON number from its exact decimal form. */
export function encodeChangeNotification(n: ChangeNotification): string {
  return `{"namespace":${JSON.stringify(n.namespace)},"key":${JSON.stringify(n.key)},"revision":${n.revision.toString()}}`;
}

/** undefined for payloads this version does not understand (ignored; the safety poll catches up). */
export function decodeChangeNotification(payload: string): ChangeNotification | undefined {
  try {
    const parsed: unknown = JSON.parse(payload);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { namespace, key, revision } = parsed as Record<string, unknown>;
    if (typeof namespace !== 'string' || typeof key !== 'string') return undefined;
    if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0) return undefined;
    return { namespace, key, revision: BigInt(revision) };
  } catch {
    return undefined;
  }
}
