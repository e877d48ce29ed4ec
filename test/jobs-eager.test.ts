import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobsFailed, jobsList, jobsRetry } from '../src/commands/jobs.js';
import type { Deps } from '../src/deps.js';
import { transaction } from '../src/platform/db/transaction.js';
import { EagerJobQueue } from '../src/platform/jobs/eager.js';
import { defineJob, JobRegistry } from '../src/platform/jobs/registry.js';
import { jobs } from '../src/platform/jobs/tables.js';
import { findJob } from '../src/platform/jobs/store.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { captureOutput } from './helpers/output.js';
import { enqueueRoute, probeJobs } from './helpers/probe-jobs.js';
import { waitFor } from './helpers/wait.js';

describe('jobs, eager mode', () => {
  let t: TestApp;
  const probe = probeJobs();
  beforeAll(async () => {
    t = await createTestApp({
      env: { REDIS_URL: undefined, JOBS_EAGER: 'true', JOB_BACKOFF: '50ms', JOB_MAX_RETRIES: '3' },
      extraJobs: probe.jobs,
      plugins: [enqueueRoute(() => t.deps)],
    });
  });
  afterAll(() => t.close());

  it('runs a job right after the request that scheduled it commits, with its request id', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/probe/enqueue/',
      payload: { job: 'probe_record', key: 'after-commit' },
      headers: { 'x-request-id': 'req-eager-1' },
    });
    expect(res.statusCode).toBe(200);
    await waitFor(() => probe.runs.get('after-commit') === 1, 5000, 'the job to run');
    const row = await findJob(t.deps.db, res.json<{ id: number }>().id);
    expect(row).toMatchObject({ status: 'succeeded', attempts: 1, requestId: 'req-eager-1' });
  });

  it('schedules nothing when the transaction rolls back', async () => {
    await expect(
      transaction(t.deps.db, async (tx) => {
        await t.deps.jobs.enqueue(tx, 'probe_record', { key: 'rolled-back' });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await t.deps.jobs.idle();
    const rows = await t.deps.db
      .select()
      .from(jobs)
      .where(sql`payload->>'key' = 'rolled-back'`);
    expect(rows).toHaveLength(0);
    expect(probe.runs.get('rolled-back')).toBeUndefined();
  });

  it('retries a failing job with exponential back-off, keeps it as failed, and jobs:retry runs it again', async () => {
    probe.flaky.failuresLeft = 100;
    probe.flaky.attemptsAt.length = 0;
    const id = await transaction(t.deps.db, (tx) => t.deps.jobs.enqueue(tx, 'probe_flaky'));
    await waitFor(async () => (await findJob(t.deps.db, id))?.status === 'failed', 10_000, 'the job to fail');

    const row = (await findJob(t.deps.db, id))!;
    expect(row).toMatchObject({ attempts: 4, maxAttempts: 4, lastError: 'probe failure' });
    const gaps = probe.flaky.attemptsAt.slice(1).map((at, i) => at - probe.flaky.attemptsAt[i]!);
    expect(gaps).toHaveLength(3);
    // 50 ms, then 100 ms, then 200 ms: each wait at least its back-off.
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(50 * 2 ** i - 5));

    const failed = captureOutput();
    await jobsFailed(t.deps, failed);
    expect(failed.text()).toContain(`#${id} probe_flaky`);
    expect(failed.text()).toContain('probe failure');

    probe.flaky.failuresLeft = 0;
    const retried = captureOutput();
    const after = await jobsRetry(t.deps, retried, id);
    expect(after.status).toBe('succeeded');
    expect(retried.text()).toContain(`Job #${id} probe_flaky ran again: succeeded`);
    await expect(jobsRetry(t.deps, captureOutput(), id)).rejects.toThrow(
      `Job #${id} is succeeded, not failed.`,
    );
    await expect(jobsRetry(t.deps, captureOutput(), 999_999)).rejects.toThrow('There is no job #999999.');
  });

  it('lists the registered jobs', () => {
    const out = captureOutput();
    jobsList(t.deps, out);
    expect(out.text()).toContain('probe_record');
    expect(out.text()).toContain('eager');
  });

  it('runs a periodic job once per period however many processes schedule it', async () => {
    let runs = 0;
    const registry = new JobRegistry<Deps>([
      defineJob<Deps, object>({
        name: 'probe_hourly',
        description: 'test probe: periodic',
        everyMs: 3_600_000,
        run: () => Promise.resolve(void runs++),
      }),
    ]);
    const options = { ...t.config.jobs, pollMs: 50 };
    const queues = [1, 2, 3].map(() => new EagerJobQueue<Deps>(t.deps.db, registry, options, t.deps.log));
    queues.forEach((q) => q.bind(t.deps));
    queues.forEach((q) => q.start({ periodic: true }));
    await waitFor(() => runs === 1, 5000, 'the periodic run');
    // Every "process" schedules the same period twice more: the unique key lets none through.
    for (let round = 0; round < 2; round++) {
      for (const q of queues) {
        await q['schedulePeriodic']();
        q.kick();
        await q.idle();
      }
    }
    await Promise.all(queues.map((q) => q.stop()));
    expect(runs).toBe(1);
    const rows = await t.deps.db.select().from(jobs).where(eq(jobs.name, 'probe_hourly'));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.uniqueKey).toMatch(/^probe_hourly@\d{4}-\d{2}-\d{2}T\d{2}:00:00\.000Z$/);
  });
});
