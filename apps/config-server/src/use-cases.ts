import {
  type ConfigChange,
  type ConfigEntry,
  type ConfigHistory,
  type ConfigUseCaseDeps,
  type ConfigWriteResult,
  DeleteConfig,
  type DeleteConfigInput,
  GetConfig,
  GetConfigHistory,
  type GetConfigHistoryInput,
  type GetConfigInput,
  GetServiceConfig,
  type GetServiceConfigInput,
  ListConfigs,
  type ListConfigsInput,
  type ListConfigsResult,
  RollbackConfig,
  type RollbackConfigInput,
  type ServiceConfig,
  UpdateConfig,
  type UpdateConfigInput,
  WatchConfig,
  type WatchConfigInput,
  type WatchStream,
} from '@k1s0/config-domain';
import { traced } from '@k1s0/platform';

/** The config server's operations, shared by REST, gRPC and the WebSocket feed; each call runs in its own span. */
export interface ConfigServerUseCases {
  getConfig(input: GetConfigInput): Promise<ConfigEntry>;
  listConfigs(input: ListConfigsInput): Promise<ListConfigsResult>;
  updateConfig(input: UpdateConfigInput): Promise<ConfigWriteResult>;
  deleteConfig(input: DeleteConfigInput): Promise<ConfigChange>;
  getServiceConfig(input: GetServiceConfigInput): Promise<ServiceConfig>;
  getConfigHistory(input: GetConfigHistoryInput): Promise<ConfigHistory>;
  rollbackConfig(input: RollbackConfigInput): Promise<ConfigWriteResult>;
  /** A long-lived stream: not wrapped in a span (as SubscribeAll in event-store). */
  watchConfig(input: WatchConfigInput): WatchStream;
}

/** The ports and settings the use cases run over, as service.ts wires them (the domain's one list). */
export type UseCaseDeps = ConfigUseCaseDeps;

/**
 * Assembles the domain's use cases over the adapters and gives each call a span named after it
 * (SPEC §7: `config.<UseCase>`), in one place for every protocol.
 */
export function createUseCases(deps: UseCaseDeps): ConfigServerUseCases {
  const getConfig = new GetConfig(deps);
  const listConfigs = new ListConfigs(deps);
  const updateConfig = new UpdateConfig(deps);
  const deleteConfig = new DeleteConfig(deps);
  const getServiceConfig = new GetServiceConfig(deps);
  const getConfigHistory = new GetConfigHistory(deps);
  const rollbackConfig = new RollbackConfig(deps);
  const watchConfig = new WatchConfig({ ...deps, options: deps.watch });
  return {
    getConfig: (input) => traced('config.GetConfig', () => getConfig.execute(input)),
    listConfigs: (input) => traced('config.ListConfigs', () => listConfigs.execute(input)),
    updateConfig: (input) => traced('config.UpdateConfig', () => updateConfig.execute(input)),
    deleteConfig: (input) => traced('config.DeleteConfig', () => deleteConfig.execute(input)),
    getServiceConfig: (input) => traced('config.GetServiceConfig', () => getServiceConfig.execute(input)),
    getConfigHistory: (input) => traced('config.GetConfigHistory', () => getConfigHistory.execute(input)),
    rollbackConfig: (input) => traced('config.RollbackConfig', () => rollbackConfig.execute(input)),
    watchConfig: (input) => watchConfig.execute(input),
  };
}
