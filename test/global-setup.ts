import { openDatabase } from '../src/platform/db/client.js';
import { runMigrations } from '../src/platform/db/migrate.js';

/**
 * Against PostgreSQL, `DATABASE_URL` names the template: it is migrated once here, and every
 * test file works in its own copy of it (see helpers/database.ts), dropped when the file ends.
 */
export default async function setup(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) return;
  const handle = await openDatabase({ url, poolSize: 1 });
  await runMigrations(handle, url);
  await handle.close();
}
