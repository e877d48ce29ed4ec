import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  /** Undefined in embedded mode: each app gets an in-memory PGlite. */
  url: string | undefined;
  drop(): Promise<void>;
}

async function admin<T>(baseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const url = new URL(baseUrl);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A database of its own for one test file: a copy of the migrated template, or nothing (PGlite in memory). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const base = process.env.DATABASE_URL;
  if (!base) return { url: undefined, drop: () => Promise.resolve() };
  const template = new URL(base).pathname.slice(1);
  const name = `${template}_${randomBytes(5).toString('hex')}`;
  await admin(base, async (client) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
        return;
      } catch (err) {
        // Another file's copy may be reading the template at this instant.
        if (attempt >= 10 || !String(err).includes('being accessed')) throw err;
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  });
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      admin(
        base,
        async (client) => void (await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)),
      ),
  };
}
