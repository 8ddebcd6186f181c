import { AppError, type ErrorDetail } from '@k1s0/platform/errors';

/** Error codes of the config domain, without the `SYS_CONFIG_` prefix the edge adds. */
export const ConfigErrorCode = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  KEY_NOT_FOUND: 'KEY_NOT_FOUND',
  VERSION_CONFLICT: 'VERSION_CONFLICT',
  SERVICE_NOT_FOUND: 'SERVICE_NOT_FOUND',
  VERSION_NOT_FOUND: 'VERSION_NOT_FOUND',
  REVISION_COMPACTED: 'REVISION_COMPACTED',
  UNAVAILABLE: 'UNAVAILABLE',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
} as const;

/** Factories for every error the use cases throw; messages follow the 000 seed. */
export const configErrors = {
  validationFailed: (details: ErrorDetail[]) =>
    new AppError('validation', {
      code: ConfigErrorCode.VALIDATION_FAILED,
      message: 'リクエストのバリデーションに失敗しました',
      details,
    }),

  keyNotFound: () =>
    new AppError('not_found', {
      code: ConfigErrorCode.KEY_NOT_FOUND,
      message: '指定された設定キーが見つかりません',
    }),

  /** `expected` is the version the caller sent, `current` the stored one (0 = absent). */
  versionConflict: (expected: number, current: number) =>
    new AppError('conflict', {
      code: ConfigErrorCode.VERSION_CONFLICT,
      message: '設定値が他のユーザーによって更新されています。最新のバージョンを取得してください',
      details: [{ field: 'version', message: `期待値: ${expected}, 現在値: ${current}` }],
    }),

  serviceNotFound: () =>
    new AppError('not_found', {
      code: ConfigErrorCode.SERVICE_NOT_FOUND,
      message: '指定されたサービスの設定が見つかりません',
    }),

  /** Rollback target that the key's change log does not contain. */
  versionNotFound: (toVersion: number) =>
    new AppError('not_found', {
      code: ConfigErrorCode.VERSION_NOT_FOUND,
      message: '指定されたバージョンの設定値が見つかりません',
      details: [{ field: 'to_version', message: `バージョン ${toVersion} は変更履歴にありません` }],
    }),

  /** The change log no longer holds every change after `fromRevision`: the client must resync. */
  revisionCompacted: (fromRevision: bigint, oldestRetained: bigint) =>
    new AppError('failed_precondition', {
      code: ConfigErrorCode.REVISION_COMPACTED,
      message: '指定されたリビジョン以降の変更履歴は保持されていません。最新の設定を再取得してください',
      details: [
        {
          field: 'from_revision',
          message: `要求: ${fromRevision}, 保持されている最古のリビジョン: ${oldestRetained}`,
        },
      ],
    }),

  /**
   * The namespace is outside the caller's scopes (SPEC §8). Thrown before any lookup, so the answer
   * is the same whether or not something exists there.
   */
  outOfScope: (namespace: string) =>
    new AppError('permission_denied', {
      code: ConfigErrorCode.PERMISSION_DENIED,
      message: `名前空間 ${namespace} へのアクセス権限がありません`,
    }),

  /** SPEC §8: only sys_admin may turn a secret entry back into a plain one. */
  secretClearDenied: () =>
    new AppError('permission_denied', {
      code: ConfigErrorCode.PERMISSION_DENIED,
      message: 'secret フラグの解除には sys_admin ロールが必要です',
      details: [{ field: 'secret', message: 'role sys_admin required to clear the secret flag' }],
    }),

  /** A watch stream that cannot continue; the client reconnects with its last revision. */
  watchInterrupted: (reason: string, cause?: unknown) =>
    new AppError('unavailable', { code: ConfigErrorCode.UNAVAILABLE, message: reason, cause }),
} as const;
