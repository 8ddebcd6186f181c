import type { ChangeFeed } from '../ports/change-feed.js';
import type { ChangeLogRepository } from '../ports/change-log-repository.js';
import type { Clock } from '../ports/clock.js';
import type { ConfigCache } from '../ports/config-cache.js';
import type { ConfigRepository } from '../ports/config-repository.js';
import type { ConfigWriter } from '../ports/config-writer.js';
import type { IdGenerator } from '../ports/id-generator.js';
import type { ConfigRules } from '../rules/config-rules.js';
import { DeleteConfig } from './delete-config.js';
import { GetConfig } from './get-config.js';
import { GetConfigHistory } from './get-config-history.js';
import { GetServiceConfig } from './get-service-config.js';
import { ListConfigs } from './list-configs.js';
import { RollbackConfig } from './rollback-config.js';
import { UpdateConfig } from './update-config.js';
import { WatchConfig, type WatchConfigOptions } from './watch-config.js';

/** Everything the config use cases need from the outside, as the app wires it. */
export interface ConfigDomainDeps {
  readonly repository: ConfigRepository;
  readonly writer: ConfigWriter;
  readonly changeLog: ChangeLogRepository;
  readonly cache: ConfigCache;
  readonly feed: ChangeFeed;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly rules: ConfigRules;
  /** The server's APP_ENV (GetServiceConfig's `environment` check). */
  readonly appEnv: string;
  readonly watch?: WatchConfigOptions;
}

export interface ConfigUseCases {
  readonly getConfig: GetConfig;
  readonly listConfigs: ListConfigs;
  readonly updateConfig: UpdateConfig;
  readonly deleteConfig: DeleteConfig;
  readonly getServiceConfig: GetServiceConfig;
  readonly getConfigHistory: GetConfigHistory;
  readonly rollbackConfig: RollbackConfig;
  readonly watchConfig: WatchConfig;
}

/** All use cases over one set of ports. */
export function createConfigUseCases(deps: ConfigDomainDeps): ConfigUseCases {
  return {
    getConfig: new GetConfig(deps),
    listConfigs: new ListConfigs(deps),
    updateConfig: new UpdateConfig(deps),
    deleteConfig: new DeleteConfig(deps),
    getServiceConfig: new GetServiceConfig(deps),
    getConfigHistory: new GetConfigHistory(deps),
    rollbackConfig: new RollbackConfig(deps),
    watchConfig: new WatchConfig({ ...deps, options: deps.watch }),
  };
}
