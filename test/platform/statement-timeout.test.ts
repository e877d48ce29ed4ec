/**
 * Issue 8, acceptance 4 (statement timeout): every PostgreSQL session of the application runs under
 * DATABASE_STATEMENT_TIMEOUT, so a statement that never ends (a cycle in a recursive query, a
 * pathological filter) is cancelled, answered with a 503, and its connection goes back to the pool.
 * Before, nothing set it: ten such requests held all ten connections and the API stopped answering.
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, queryRows } from '../../src/platform/db/client.js';
import { runMigrations } from '../../src/platform/db/migrate.js';
import { transaction } from '../../src/platform/db/transaction.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

const postgres = Boolean(process.env.DATABASE_URL);
const POOL_SIZE = 10;
const TOO_LONG = { detail: 'The database took too long to answer. Try again later.' };

/** Statements far longer than the 200 ms timeout, alone or inside a use case's transaction. */
function sleepProbe(t: () => TestApp) {
  // eslint-disable-next-line @typescript-eslint/require-await
  return async (app: FastifyInstance) => {
    app.get('/probe/sleep/', async () => {
      await t().deps.db.execute(sql`SELECT pg_sleep(5)`);
      return { slept: true };
    });
    app.get('/probe/sleep-in-transaction/', async () => {
      await transaction(t().deps.db, async (tx) => {
        await tx.execute(sql`SELECT 1`);
        await tx.execute(sql`SELECT pg_sleep(5)`);
      });
      return { slept: true };
    });
  };
}

async function sessionTimeout(t: TestApp): Promise<string> {
  const [row] = await queryRows<{ statement_timeout: string }>(t.deps.db, sql`SHOW statement_timeout`);
  return row!.statement_timeout;
}

/** Statements of this database still running pg_sleep: a cancelled one must not be among them. */
async function sleepersLeft(t: TestApp): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    t.deps.db,
    sql`SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND state = 'active' AND query LIKE '%pg\_sleep(5)%'
          AND pid <> pg_backend_pid()`,
  );
  return row!.n;
}

describe.skipIf(!postgres)(
  'DATABASE_STATEMENT_TIMEOUT (PostgreSQL only: PGlite never fires statement_timeout)',
  () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({
        env: { DATABASE_STATEMENT_TIMEOUT: '200ms' },
        plugins: [sleepProbe(() => t)],
      });
    });
    afterAll(() => t?.close());

    it('is set on the pool’s sessions', async () => {
      expect(await sessionTimeout(t)).toBe('200ms');
    });

    it.each(['/probe/sleep/', '/probe/sleep-in-transaction/'])(
      'a statement past it is cancelled: 503 in DRF’s shape (%s)',
      async (url) => {
        const res = await t.app.inject({ url });
        expect(res.statusCode, res.body).toBe(503);
        expect(res.json()).toEqual(TOO_LONG);
        expect(res.headers['retry-after']).toBe('1');
        expect(await sleepersLeft(t)).toBe(0);
      },
    );

    it('more cancelled statements than the pool holds, and the pool still serves more requests than that', async () => {
      const slow = await Promise.all(
        Array.from({ length: POOL_SIZE + 5 }, () => t.app.inject({ url: '/probe/sleep/' })),
      );
      expect(slow.map((r) => r.statusCode)).toEqual(Array(POOL_SIZE + 5).fill(503));
      expect(await sleepersLeft(t)).toBe(0);

      const after = await Promise.all(
        Array.from({ length: POOL_SIZE * 3 }, () => t.app.inject({ url: '/api/products/?page_size=5' })),
      );
      expect(after.map((r) => r.statusCode)).toEqual(Array(POOL_SIZE * 3).fill(200));
    });

    it.each([
      [undefined, '30s'],
      ['0', '0'],
    ])('DATABASE_STATEMENT_TIMEOUT=%s gives sessions statement_timeout %s', async (value, shown) => {
      const other = await createTestApp({
        database: t.database,
        env: { DATABASE_STATEMENT_TIMEOUT: value },
      });
      try {
        expect(await sessionTimeout(other)).toBe(shown);
      } finally {
        await other.close();
      }
    });

    it('migrations run without one, even where the database sets a tiny default', async () => {
      const url = new URL(t.database.url!);
      url.pathname = `/${url.pathname.slice(1)}_empty`;
      const admin = new pg.Client({ connectionString: t.database.url });
      await admin.connect();
      const name = url.pathname.slice(1);
      try {
        await admin.query(`CREATE DATABASE "${name}"`);
        // A role or database default applies to every new session, the migration's included.
        await admin.query(`ALTER DATABASE "${name}" SET statement_timeout = '1ms'`);
        // The check below must not be cut either; runMigrations opens its own session.
        const handle = await openDatabase({ url: url.toString(), poolSize: 1, statementTimeoutMs: 0 });
        try {
          await runMigrations(handle, url.toString());
          const [row] = await queryRows<{ n: number }>(
            handle.db,
            sql`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'products'`,
          );
          expect(row!.n).toBe(1);
        } finally {
          await handle.close();
        }
      } finally {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await admin.end();
      }
    });
  },
);
