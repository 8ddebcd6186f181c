import type { DeleteConfigDeps } from './delete-config.js';
import type { GetConfigDeps } from './get-config.js';
import type { GetConfigHistoryDeps } from './get-config-history.js';
import type { GetServiceConfigDeps } from './get-service-config.js';
import type { ListConfigsDeps } from './list-configs.js';
import type { RollbackConfigDeps } from './rollback-config.js';
import type { UpdateConfigDeps } from './update-config.js';
import type { WatchConfigDeps, WatchConfigOptions } from './watch-config.js';

/**
 * Every port and setting the config use cases run over together: what whoever assembles all of
 * them provides (the app's `createUseCases`, the domain tests' fakes). WatchConfig's `options`
 * travel as `watch`.
 */
export type ConfigUseCaseDeps = Omit<
  GetConfigDeps &
    ListConfigsDeps &
    UpdateConfigDeps &
    DeleteConfigDeps &
    GetServiceConfigDeps &
    GetConfigHistoryDeps &
    RollbackConfigDeps &
    WatchConfigDeps,
  'options'
> & { readonly watch?: WatchConfigOptions };
