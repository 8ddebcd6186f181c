import { defineConfig } from 'drizzle-kit';

// Only the test fixture: the platform owns no tables of its own; apps put outboxTable() in
// their schemas and generate their own migrations.
export default defineConfig({
  dialect: 'postgresql',
  schema: './test/fixtures/schema.ts',
  out: './test/fixtures/migrations',
});
