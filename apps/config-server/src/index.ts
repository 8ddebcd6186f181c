// Public surface for other packages (e.g. a future combined launcher or benchmarks).
export { type ConfigServerConfig, configServerConfigSchema } from './config.js';
export { configServerDefinition, METRICS_PREFIX } from './service.js';
