/**
 * Parameterised statements are prepared once per PostgreSQL connection (named), up to a limit of
 * distinct texts per process; statements without parameters, and texts past the limit, run unnamed.
 * What a connection has prepared is read from PostgreSQL's own `pg_prepared_statements`.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, queryRows, type DatabaseHandle } from '../src/platform/db/client.js';
import { StatementNames } from '../src/platform/db/prepared-statements.js';
import { transaction } from '../src/platform/db/transaction.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

describe('StatementNames', () => {
  const twice = (names: StatementNames, text: string) => {
    names.nameFor(text);
    return names.nameFor(text);
  };

  it('names a text on its second use, the same text always alike', () => {
    const names = new StatementNames(2);
    expect(names.nameFor('select $1')).toBeUndefined();
    const a = names.nameFor('select $1');
    expect(a).toBeDefined();
    expect(names.nameFor('select $1')).toBe(a);
    const b = twice(names, 'select $1, $2');
    expect(b).toBeDefined();
    expect(b).not.toBe(a);
  });

  it('names at most `limit` texts; one-off texts take no place', () => {
    const names = new StatementNames(2);
    for (let i = 0; i < 50; i++) names.nameFor(`select $1 -- one-off ${i}`);
    const a = twice(names, 'select $1');
    const b = twice(names, 'select $1, $2');
    expect([a, b].every((n) => n !== undefined)).toBe(true);
    expect(twice(names, 'select $1, $2, $3')).toBeUndefined();
    expect(names.nameFor('select $1, $2')).toBe(b);
  });

  it('names nothing with a limit of 0', () => {
    expect(twice(new StatementNames(0), 'select $1')).toBeUndefined();
  });
});

describe.skipIf(!process.env.DATABASE_URL)('prepared statements on PostgreSQL (needs DATABASE_URL)', () => {
  let database: TestDatabase;
  const handles: DatabaseHandle[] = [];

  /** A pool of one connection, so every query below sees the same session's prepared statements. */
  async function open(preparedStatements: number): Promise<DatabaseHandle> {
    const handle = await openDatabase({ url: database.url, poolSize: 1, preparedStatements });
    handles.push(handle);
    return handle;
  }

  const prepared = (handle: DatabaseHandle) =>
    queryRows<{ statement: string }>(
      handle.db,
      sql.raw('SELECT statement FROM pg_prepared_statements ORDER BY prepare_time'),
    ).then((rows) => rows.map((r) => r.statement));

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await Promise.all(handles.map((h) => h.close()));
    await database.drop();
  });

  it('prepares a parameterised statement once and answers as before', async () => {
    const handle = await open(10);
    const add = (n: number) => queryRows<{ n: number }>(handle.db, sql`SELECT ${n}::int + 1 AS n`);
    expect(await add(1)).toEqual([{ n: 2 }]);
    expect(await add(41)).toEqual([{ n: 42 }]);
    expect(await prepared(handle)).toEqual(['SELECT $1::int + 1 AS n']);
  });

  it('leaves statements without parameters unnamed (they may hold several commands)', async () => {
    const handle = await open(10);
    await handle.db.execute(sql.raw('SELECT 1; SELECT 2'));
    await handle.db.execute(sql.raw('SELECT 3'));
    expect(await prepared(handle)).toEqual([]);
  });

  it('stops naming past the limit, and the later texts still run', async () => {
    const handle = await open(2);
    for (const k of [1, 1, 2, 2, 3, 3, 4, 4]) {
      const rows = await queryRows<{ v: number }>(
        handle.db,
        sql`SELECT ${3}::int * ${sql.raw(String(k))} AS v`,
      );
      expect(rows).toEqual([{ v: 3 * k }]);
    }
    expect(await prepared(handle)).toEqual(['SELECT $1::int * 1 AS v', 'SELECT $1::int * 2 AS v']);
  });

  it('names nothing with DATABASE_PREPARED_STATEMENTS=0', async () => {
    const handle = await open(0);
    await queryRows(handle.db, sql`SELECT ${1}::int AS one`);
    await queryRows(handle.db, sql`SELECT ${1}::int AS one`);
    expect(await prepared(handle)).toEqual([]);
  });

  it('keeps a connection usable after a statement fails to parse or to run', async () => {
    const handle = await open(10);
    const broken = sql`SELECT ${1}::int FROM no_such_table`;
    for (let i = 0; i < 2; i++) {
      await expect(handle.db.execute(broken)).rejects.toMatchObject({ cause: { code: '42P01' } });
    }
    const divide = (d: number) => queryRows<{ q: number }>(handle.db, sql`SELECT 10 / ${d}::int AS q`);
    await expect(divide(0)).rejects.toMatchObject({ cause: { code: '22012' } });
    expect(await divide(5)).toEqual([{ q: 2 }]);
    expect(await prepared(handle)).toEqual(['SELECT 10 / $1::int AS q']);
  });

  it('uses the prepared statements inside transactions too', async () => {
    const handle = await open(10);
    const twice = (n: number) => queryRows<{ n: number }>(handle.db, sql`SELECT ${n}::int * 2 AS n`);
    expect(await twice(2)).toEqual([{ n: 4 }]);
    const inside = await transaction(handle.db, (tx) =>
      queryRows<{ n: number }>(tx, sql`SELECT ${21}::int * 2 AS n`),
    );
    expect(inside).toEqual([{ n: 42 }]);
    expect(await prepared(handle)).toEqual(['SELECT $1::int * 2 AS n']);
  });
});
