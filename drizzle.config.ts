import { defineConfig } from 'drizzle-kit';

// Migrations are generated from every module's schema.ts and checked in under drizzle/.
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/platform/**/schema.ts', './src/modules/**/schema.ts'],
  out: './drizzle',
});
