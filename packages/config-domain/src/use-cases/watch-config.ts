import { type PushableStream, pushableStream, type StreamSink } from '@k1s0/platform/streams';
import { configErrors } from '../errors.js';
import type { ConfigChange } from '../model/config-change.js';
import { changeFor } from '../model/secret.js';
import type { ChangeFeed } from '../ports/change-feed.js';
import type { ChangeLogRepository } from '../ports/change-log-repository.js';
import type { ConfigRules } from '../rules/config-rules.js';
import { checkNamespace } from '../rules/namespace.js';
import { type CallerScopes, inScope } from '../rules/scope.js';
import { Violations } from '../rules/validation.js';

export interface WatchConfigOptions {
  /** Changes read from the log per query while replaying (default 500). */
  readonly replayPageSize?: number;
  /** Live changes held for a consumer that is behind (default 10 000); beyond that the stream ends. */
  readonly maxBufferedChanges?: number;
}

export interface WatchConfigDeps {
  readonly changeLog: ChangeLogRepository;
  readonly feed: ChangeFeed;
  readonly rules: ConfigRules;
  readonly options?: WatchConfigOptions;
}

export interface WatchConfigInput extends CallerScopes {
  /**
   * Exact namespaces to watch; empty or absent = all. With scopes, both narrow: only changes of
   * namespaces that are named (or all) AND in scope arrive; a named namespace outside the scopes is
   * left out silently, never an error (SPEC §8: watch leaves out, it does not refuse).
   */
  readonly namespaces?: readonly string[] | undefined;
  /**
   * The last revision the client has seen: first replay every later change from the log, then go
   * live. Absent = live changes only (those committed after the stream opened).
   */
  readonly fromRevision?: bigint | undefined;
  /** Ends the stream (normally, without error) and releases the feed subscription. */
  readonly signal?: AbortSignal | undefined;
  /**
   * The caller may read secret values (SPEC §8: sys_operator and above); otherwise they are
   * REDACTED. Absent = false, so a caller that forgets to decide leaks nothing.
   */
  readonly revealSecrets?: boolean | undefined;
}

/**
 * Server-streaming WatchConfig. The stream is lazy: validation errors, REVISION_COMPACTED
 * (failed_precondition) and feed failures (unavailable) end it with that error. The feed
 * subscription lives exactly as long as the stream; ending it (abort, the consumer leaving, an
 * error) unsubscribes. It is pushable (platform streams): the feed's call hands each live change
 * straight down to the consumer — with thousands of open watches, that is the fan-out (issue 13);
 * pulled, it paces a replay by the reader as a generator would.
 */
export class WatchConfig {
  private readonly replayPageSize: number;
  private readonly maxBufferedChanges: number;

  constructor(private readonly deps: WatchConfigDeps) {
    this.replayPageSize = deps.options?.replayPageSize ?? 500;
    this.maxBufferedChanges = deps.options?.maxBufferedChanges ?? 10_000;
  }

  execute(input: WatchConfigInput): WatchStream {
    return pushableStream((sink) => this.start(input, sink));
  }

  private start(input: WatchConfigInput, sink: StreamSink<ConfigChange>): () => void {
    const { changeLog, feed, rules } = this.deps;
    const namespaces = input.namespaces ?? [];
    const violations = new Violations();
    namespaces.forEach((ns, i) => {
      checkNamespace(violations, ns, rules, `namespaces[${i}]`);
    });
    checkFromRevision(violations, input.fromRevision);
    violations.throwIfAny();
    const { signal, fromRevision, scopes } = input;
    const reveal = input.revealSecrets ?? false;
    if (signal?.aborted) {
      sink.end();
      return () => {};
    }

    const watched = new Set(namespaces);
    const visible = (namespace: string) =>
      (watched.size === 0 || watched.has(namespace)) && inScope(scopes, namespace);
    let stopped = false;
    let replaying = fromRevision !== undefined;
    // Live changes that arrive while the log is replayed, handed on after it.
    const held: ConfigChange[] = [];
    let lastDelivered = fromRevision;
    const deliver = (change: ConfigChange) => {
      // The feed may repeat what the replay already delivered; revisions tell which.
      if (lastDelivered !== undefined && change.revision <= lastDelivered) return;
      lastDelivered = change.revision;
      sink.push(changeFor(change, reveal));
    };
    const finish = (error?: unknown) => {
      if (stopped) return;
      stop();
      sink.end(error);
    };
    // Subscribe BEFORE reading the log: every change committed from here on reaches `held`,
    // everything committed earlier is in the log, so the two overlap instead of leaving a gap.
    const unsubscribe = feed.subscribe({
      onChange: (change) => {
        if (stopped || !visible(change.namespace)) return;
        // Held beyond the bound behind a slow consumer: end rather than grow without bound.
        if ((replaying ? held.length : sink.backlog) >= this.maxBufferedChanges) {
          finish(configErrors.watchInterrupted('設定変更の受信が追いつかないためストリームを終了しました'));
        } else if (replaying) held.push(change);
        else deliver(change);
      },
      onError: (error) => finish(configErrors.watchInterrupted('設定変更の監視が中断されました', error)),
    });
    const onAbort = () => finish();
    signal?.addEventListener('abort', onAbort, { once: true });
    const stop = () => {
      stopped = true;
      signal?.removeEventListener('abort', onAbort);
      unsubscribe();
    };
    if (fromRevision !== undefined) {
      const replay = async () => {
        const oldest = await changeLog.oldestRetainedRevision();
        if (fromRevision < oldest - 1n) throw configErrors.revisionCompacted(fromRevision, oldest);
        for (;;) {
          if (stopped) return;
          const page = await changeLog.changesAfter(
            lastDelivered ?? fromRevision,
            namespaces,
            this.replayPageSize,
          );
          for (const change of page) {
            if (stopped) return;
            // The cursor passes changes left out by the scopes too, so the replay always advances.
            lastDelivered = change.revision;
            if (inScope(scopes, change.namespace) && !sink.push(changeFor(change, reveal))) {
              await sink.drained();
            }
          }
          if (page.length < this.replayPageSize) break;
        }
        if (stopped) return;
        replaying = false;
        for (const change of held.splice(0)) deliver(change);
      };
      replay().catch((error: unknown) => finish(error));
    }
    return stop;
  }
}

/** What WatchConfig returns: read once, by iterating or by having it pushed (platform streams). */
export type WatchStream = PushableStream<ConfigChange> & AsyncIterator<ConfigChange, undefined>;

function checkFromRevision(violations: Violations, fromRevision: bigint | undefined): void {
  if (fromRevision === undefined || (typeof fromRevision === 'bigint' && fromRevision >= 0n)) return;
  violations.add('from_revision', 'from_revision は 0 以上の整数で指定してください');
}
