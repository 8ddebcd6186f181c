import { runServiceMain } from '@k1s0/platform';
import { eventStoreService } from './service.js';

await runServiceMain(eventStoreService);
