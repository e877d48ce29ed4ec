/**
 * `transaction()` joins a transaction it is handed, so a use case of one module can call another's
 * (checkout takes stock and redeems a coupon) and all of it commits or rolls back as one, with
 * every after-commit hook waiting for the outer commit.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/platform/db/client.js';
import { transaction, type Tx } from '../../src/platform/db/transaction.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

describe('transaction() joins an open transaction', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
    await t.deps.db.execute(sql`CREATE TABLE tx_probe (label text NOT NULL)`);
  });
  afterAll(() => t.close());

  const labels = async () =>
    (await queryRows<{ label: string }>(t.deps.db, sql`SELECT label FROM tx_probe ORDER BY label`)).map(
      (r) => r.label,
    );
  const insert = (tx: Tx, label: string) => tx.execute(sql`INSERT INTO tx_probe VALUES (${label})`);

  /** Another module's use case: opens "its" transaction, which joins the caller's. */
  const inner = (executor: Parameters<typeof transaction>[0], label: string, seen: string[]) =>
    transaction(executor, async (tx) => {
      await insert(tx, label);
      tx.afterCommit(() => void seen.push(`inner ${label}`));
      return tx;
    });

  it('commits the joined work with the outer transaction, hooks after the commit', async () => {
    const seen: string[] = [];
    await transaction(t.deps.db, async (tx) => {
      const joined = await inner(tx, 'a-joined', seen);
      expect(joined).toBe(tx);
      expect(seen).toEqual([]);
      await insert(tx, 'a-outer');
      tx.afterCommit(() => void seen.push('outer'));
    });
    expect(seen).toEqual(['inner a-joined', 'outer']);
    expect(await labels()).toEqual(expect.arrayContaining(['a-joined', 'a-outer']));
  });

  it('rolls the joined work back with the outer transaction, and runs none of its hooks', async () => {
    const seen: string[] = [];
    await expect(
      transaction(t.deps.db, async (tx) => {
        await inner(tx, 'b-joined', seen);
        throw new Error('the use case failed after the inner call');
      }),
    ).rejects.toThrow('the use case failed');
    expect(seen).toEqual([]);
    expect(await labels()).not.toContain('b-joined');
  });

  it('rolls back the whole when the joined work fails', async () => {
    await expect(
      transaction(t.deps.db, async (tx) => {
        await insert(tx, 'c-outer');
        await transaction(tx, () => Promise.reject(new Error('inner failed')));
      }),
    ).rejects.toThrow('inner failed');
    expect(await labels()).not.toContain('c-outer');
  });

  it('opens a transaction of its own when handed the database', async () => {
    const seen: string[] = [];
    await inner(t.deps.db, 'd-alone', seen);
    expect(seen).toEqual(['inner d-alone']);
    expect(await labels()).toContain('d-alone');
  });
});
