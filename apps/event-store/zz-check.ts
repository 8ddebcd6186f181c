import { loadConfig } from '@k1s0/platform';
import { eventStoreConfigSchema, eventStoreDurations } from './src/config.js';

const c = loadConfig({ configDir: '/tmp/anatomy-cfg', schema: eventStoreConfigSchema, env: {} });
console.log(JSON.stringify(eventStoreDurations(c)));
const d = loadConfig({
  configDir: '/work/wt/anatomy/apps/event-store/config',
  schema: eventStoreConfigSchema,
  env: {},
});
console.log(JSON.stringify(eventStoreDurations(d)));
