/**
 * The job pollers' statements run prepared, so after five executions PostgreSQL may use a generic
 * plan. That plan must still find due jobs through the partial index `jobs_due_idx` (`status =
 * 'pending'`), not by reading every job ever run: checked by forcing generic plans (and no
 * sequential scans) on the statements the poller really sends, in a transaction rolled back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transaction } from '../src/platform/db/transaction.js';
import { claimDueForRun, lockForDispatch } from '../src/platform/jobs/store.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { genericPlan, queryRecorder } from './helpers/query-plans.js';

let t: TestApp;
const recorder = queryRecorder();

beforeAll(async () => {
  t = await createTestApp({ runJobs: false, onQuery: recorder.onQuery });
});

afterAll(async () => {
  await t.close();
});

/** The generic plan of the one statement on `jobs` that `run` sends. */
async function planOf(run: () => Promise<unknown>): Promise<string> {
  const statements = (await recorder.during(run)).filter(({ query }) => query.includes('"jobs"'));
  expect(statements).toHaveLength(1);
  return genericPlan(t.deps.db, statements[0]!);
}

describe('generic plans of the job pollers', () => {
  it('find due jobs through jobs_due_idx (eager mode)', async () => {
    const plan = await planOf(() => claimDueForRun(t.deps.db, 10));
    expect(plan).toContain('jobs_due_idx');
    expect(plan).not.toMatch(/Seq Scan on jobs/);
  });

  it('find due jobs through jobs_due_idx (queue mode dispatch)', async () => {
    const plan = await planOf(() => transaction(t.deps.db, (tx) => lockForDispatch(tx, 10, 60_000)));
    expect(plan).toContain('jobs_due_idx');
    expect(plan).not.toMatch(/Seq Scan on jobs/);
  });
});
