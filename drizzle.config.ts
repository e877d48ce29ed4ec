import { defineConfig } from 'drizzle-kit';

// Migrations are generated from every module's tables.ts and checked in under drizzle/.
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/platform/**/tables.ts', './src/modules/**/tables.ts'],
  out: './drizzle',
});
