// Public surface for other packages (e.g. a future combined launcher or benchmarks).
export { type ConfigServerConfig, configServerConfigSchema } from './config.js';
export {
  type ConfigServerServiceOptions,
  configServerService,
  createConfigServerService,
  METRICS_PREFIX,
} from './service.js';
