import { eventStoreErrors } from '../errors.js';
import type { JsonValue } from '../model/json.js';
import { type EventStoreLimits, resolveLimits } from '../model/limits.js';
import type { Snapshot } from '../model/snapshot.js';
import type { Clock } from '../ports/clock.js';
import type { EventStore } from '../ports/event-store.js';
import type { IdGenerator } from '../ports/id-generator.js';
import type { SnapshotStore } from '../ports/snapshot-store.js';
import { checkIntegerInRange } from '../rules/ranges.js';
import { assertStreamInScope, type CallerScopes } from '../rules/scope.js';
import { utf8ByteLength } from '../rules/sizes.js';
import { checkStorableJson } from '../rules/storable-text.js';
import { checkStreamId } from '../rules/stream-id.js';
import { checkTypeName } from '../rules/type-name.js';
import { Violations } from '../rules/violations.js';

export interface CreateSnapshotInput extends CallerScopes {
  streamId: string;
  /** 0 ≤ snapshotVersion ≤ the stream's current version. */
  snapshotVersion: number;
  /** Default: the stream's aggregate type. */
  aggregateType?: string | undefined;
  state: JsonValue;
}

export interface CreateSnapshotDeps {
  events: EventStore;
  snapshots: SnapshotStore;
  clock: Clock;
  ids: IdGenerator;
  limits?: Partial<EventStoreLimits>;
}

/** Stores an aggregate state as of a stream version. Errors: VALIDATION_ERROR, PAYLOAD_TOO_LARGE, STREAM_NOT_FOUND. */
export class CreateSnapshot {
  private readonly maxStateBytes: number;

  constructor(private readonly deps: CreateSnapshotDeps) {
    this.maxStateBytes = resolveLimits(deps.limits).maxEventBytes;
  }

  async execute(input: CreateSnapshotInput): Promise<Snapshot> {
    const violations = new Violations();
    checkStreamId(violations, input.streamId);
    checkIntegerInRange(violations, 'snapshot_version', input.snapshotVersion, 0);
    if (input.aggregateType !== undefined) checkTypeName(violations, 'aggregate_type', input.aggregateType);
    if (input.state === undefined) violations.add('state', 'is required');
    else checkStorableJson(violations, 'state', input.state);
    violations.throwIfAny();
    assertStreamInScope(input.scopes, input.streamId);
    const stateBytes = utf8ByteLength(JSON.stringify(input.state));
    if (stateBytes > this.maxStateBytes)
      throw eventStoreErrors.payloadTooLarge('state', stateBytes, this.maxStateBytes);

    const stream = await this.deps.events.getStream(input.streamId);
    if (stream === null) throw eventStoreErrors.streamNotFound(input.streamId);
    if (input.snapshotVersion > stream.currentVersion) {
      throw eventStoreErrors.validationFailed([
        {
          field: 'snapshot_version',
          message: `must be between 0 and ${stream.currentVersion} (the stream's current version)`,
        },
      ]);
    }
    const snapshot: Snapshot = {
      id: `snap_${this.deps.ids.newId()}`,
      streamId: input.streamId,
      snapshotVersion: input.snapshotVersion,
      aggregateType: input.aggregateType ?? stream.aggregateType,
      state: input.state,
      createdAt: this.deps.clock.now(),
    };
    const saved = await this.deps.snapshots.save(snapshot);
    if (saved.kind === 'stream_not_found') throw eventStoreErrors.streamNotFound(input.streamId);
    return snapshot;
  }
}
