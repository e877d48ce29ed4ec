/**
 * The job pollers' statements run prepared, so after five executions PostgreSQL may use a generic
 * plan. That plan must still find due jobs through the partial index `jobs_due_idx` (`status =
 * 'pending'`), not by reading every job ever run: checked by forcing generic plans (and no
 * sequential scans) on the statements the poller really sends, in a transaction rolled back.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparedPlan } from '../src/platform/db/plans.js';
import { claimDueForRun, lockForDispatch } from '../src/platform/jobs/store.js';
import { transaction } from '../src/platform/db/transaction.js';
import { createTestApp, type TestApp } from './helpers/app.js';

let t: TestApp;
const captured: Array<{ query: string; params: unknown[] }> = [];
let capturing = false;

beforeAll(async () => {
  t = await createTestApp({
    runJobs: false,
    onQuery: (query, params) => {
      if (capturing) captured.push({ query, params });
    },
  });
});

afterAll(async () => {
  await t.close();
});

class RolledBack extends Error {
  constructor(readonly plan: string) {
    super('rolled back');
  }
}

/** The generic plan of the one statement `run` sends, its effects undone. */
async function genericPlan(run: () => Promise<unknown>): Promise<string> {
  captured.length = 0;
  capturing = true;
  await run();
  capturing = false;
  const statements = captured.filter(({ query }) => query.includes('"jobs"'));
  expect(statements).toHaveLength(1);
  const { query, params } = statements[0]!;
  try {
    await transaction(t.deps.db, async (tx) => {
      await tx.execute(sql`SET LOCAL plan_cache_mode = force_generic_plan`);
      await tx.execute(sql`SET LOCAL enable_seqscan = off`);
      throw new RolledBack((await preparedPlan(tx, query, params)).join('\n'));
    });
  } catch (err) {
    if (err instanceof RolledBack) return err.plan;
    throw err;
  }
  throw new Error('unreachable');
}

describe('generic plans of the job pollers', () => {
  it('find due jobs through jobs_due_idx (eager mode)', async () => {
    const plan = await genericPlan(() => claimDueForRun(t.deps.db, 10));
    expect(plan).toContain('jobs_due_idx');
    expect(plan).not.toMatch(/Seq Scan on jobs/);
  });

  it('find due jobs through jobs_due_idx (queue mode dispatch)', async () => {
    const plan = await genericPlan(() => transaction(t.deps.db, (tx) => lockForDispatch(tx, 10, 60_000)));
    expect(plan).toContain('jobs_due_idx');
    expect(plan).not.toMatch(/Seq Scan on jobs/);
  });
});
