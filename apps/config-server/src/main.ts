import { runServiceMain } from '@k1s0/platform';
import { configServerService } from './service.js';

await runServiceMain(configServerService);
