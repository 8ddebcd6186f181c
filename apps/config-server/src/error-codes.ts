import { ConfigErrorCode } from '@k1s0/config-domain';
import type { ErrorCodes } from '@k1s0/platform';

/** SPEC §4 naming for the config server: `SYS_CONFIG_*`, validation `SYS_CONFIG_VALIDATION_FAILED`. */
export const configErrorCodes: ErrorCodes = {
  prefix: 'SYS_CONFIG_',
  validation: ConfigErrorCode.VALIDATION_FAILED,
  validationMessage: 'リクエストのバリデーションに失敗しました',
};
