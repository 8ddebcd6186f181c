import { runServiceMain } from '@k1s0/platform';
import { configServerDefinition } from './service.js';

await runServiceMain(configServerDefinition);
