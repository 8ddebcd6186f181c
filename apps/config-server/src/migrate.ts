// The migrate command (node dist/migrate.js, ./k1s0 migrate): applies pending migrations and exits,
// for a Job that runs before a rollout (then DATABASE_MIGRATE_ON_START=false on the Deployment).
import { runMigrateMain } from '@k1s0/platform';
import { configServerService } from './service.js';

await runMigrateMain(configServerService);
