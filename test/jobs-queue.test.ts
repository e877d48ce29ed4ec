import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobsFailed, jobsPing, jobsPurge, jobsRetry } from '../src/commands/jobs.js';
import { transaction } from '../src/platform/db/transaction.js';
import type { BullmqJobQueue } from '../src/platform/jobs/bullmq.js';
import { findJob } from '../src/platform/jobs/store.js';
import type { Deps } from '../src/deps.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { createTestDatabase } from './helpers/database.js';
import { captureOutput } from './helpers/output.js';
import { enqueueRoute, probeJobs } from './helpers/probe-jobs.js';
import { PrivateRedis, redisServerAvailable } from './helpers/redis.js';
import { waitFor } from './helpers/wait.js';

const queueOf = (deps: Deps) => deps.jobs as BullmqJobQueue<Deps>;
const statusOf = async (deps: Deps, id: number) => (await findJob(deps.db, id))?.status;

describe.skipIf(!redisServerAvailable)('jobs on BullMQ (needs redis-server)', () => {
  let redis: PrivateRedis;
  let t: TestApp;
  const probe = probeJobs();

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    t = await createTestApp({
      env: { REDIS_URL: redis.url, JOBS_EAGER: 'false', JOB_BACKOFF: '100ms', JOB_MAX_RETRIES: '2' },
      extraJobs: probe.jobs,
      plugins: [enqueueRoute(() => t.deps)],
      runJobs: false,
    });
    queueOf(t.deps).startWorker(2);
    t.deps.jobs.start({ periodic: false });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  it('hands a job to a worker, which runs it once', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/probe/enqueue/',
      payload: { job: 'probe_record', key: 'q1' },
    });
    expect(res.statusCode).toBe(200);
    const id = res.json<{ id: number }>().id;
    await waitFor(
      async () => (await statusOf(t.deps, id)) === 'succeeded',
      10_000,
      'the worker to run the job',
    );
    expect(probe.runs.get('q1')).toBe(1);
  });

  it('answers jobs:ping from a worker', async () => {
    const out = captureOutput();
    await jobsPing(t.deps, out, 5000);
    expect(out.text()).toMatch(/^pong from \S+ pid \d+/);
  });

  it('retries with back-off until the last attempt, keeps the job as failed, and jobs:retry runs it again', async () => {
    probe.flaky.failuresLeft = 100;
    probe.flaky.attemptsAt.length = 0;
    const id = await transaction(t.deps.db, (tx) => t.deps.jobs.enqueue(tx, 'probe_flaky'));
    await waitFor(async () => (await statusOf(t.deps, id)) === 'failed', 15_000, 'the job to fail');
    expect(await findJob(t.deps.db, id)).toMatchObject({ attempts: 3, lastError: 'probe failure' });
    const gaps = probe.flaky.attemptsAt.slice(1).map((at, i) => at - probe.flaky.attemptsAt[i]!);
    expect(gaps).toHaveLength(2);
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(100 * 2 ** i - 5));

    const failed = captureOutput();
    await jobsFailed(t.deps, failed);
    expect(failed.text()).toContain(`#${id} probe_flaky`);

    probe.flaky.failuresLeft = 0;
    const out = captureOutput();
    await jobsRetry(t.deps, out, id);
    expect(out.text()).toContain(`Job #${id} probe_flaky handed to the workers again`);
    await waitFor(
      async () => (await statusOf(t.deps, id)) === 'succeeded',
      10_000,
      'the retried job to succeed',
    );
  });

  it('keeps a job scheduled while Redis is down in the outbox and runs it exactly once when Redis is back', async () => {
    await redis.stop();
    // The request only writes the outbox row: it answers while Redis is down (a hand-over in the
    // request would fail or hang here).
    const res = await t.app.inject({
      method: 'POST',
      url: '/probe/enqueue/',
      payload: { job: 'probe_record', key: 'outage' },
    });
    expect(res.statusCode).toBe(200);
    const id = res.json<{ id: number }>().id;

    // The hand-over the commit started, and two more relay rounds, have run and failed: the job
    // is still waiting in the outbox.
    await t.deps.jobs.idle();
    for (let round = 0; round < 2; round++) {
      t.deps.jobs.kick();
      await t.deps.jobs.idle();
    }
    expect(await statusOf(t.deps, id)).toBe('pending');
    expect(probe.runs.get('outage')).toBeUndefined();

    await redis.start();
    await waitFor(
      async () => (await statusOf(t.deps, id)) === 'succeeded',
      20_000,
      'the job to run after Redis came back',
    );
    // Several more relay rounds hand nothing over again, and a job scheduled after them has run
    // (the worker has taken what it was given): nothing ran the first job a second time.
    for (let round = 0; round < 3; round++) {
      t.deps.jobs.kick();
      await t.deps.jobs.idle();
    }
    const after = await transaction(t.deps.db, (tx) =>
      t.deps.jobs.enqueue(tx, 'probe_record', { key: 'after-outage' }),
    );
    await waitFor(async () => (await statusOf(t.deps, after)) === 'succeeded', 10_000, 'the later job');
    expect(probe.runs.get('outage')).toBe(1);
    expect(await findJob(t.deps.db, id)).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('purges jobs not yet run only with --yes', async () => {
    await expect(jobsPurge(t.deps, captureOutput(), false)).rejects.toThrow('--yes');
    const out = captureOutput();
    await jobsPurge(t.deps, out, true);
    expect(out.text()).toMatch(/^Discarded \d+ jobs? not yet run\.$/);
  });
});

describe.skipIf(!process.env.REDIS_URL && !redisServerAvailable)(
  'closing a queue-mode app right after it starts (needs Redis)',
  () => {
    // A worker closed while still connecting left commands behind that failed unhandled; Vitest fails
    // the whole run on an unhandled rejection, so opening and closing is the test. The apps take
    // turns on one database (on PostgreSQL a copy of the template, embedded one PGlite directory,
    // migrated by the first): what is exercised is the queue's start and stop, not a database's.
    // Fifteen lifecycles one after another take about 15 s on a quiet machine, twice that beside the
    // rest of the suite: hence the longer timeout.
    it('leaves no Redis command behind', async () => {
      const own = process.env.REDIS_URL ? undefined : await PrivateRedis.start();
      const database = await createTestDatabase();
      const dir = mkdtempSync(path.join(tmpdir(), 'nexus-queue-close-'));
      try {
        for (let i = 0; i < 15; i++) {
          const t = await createTestApp({
            env: { REDIS_URL: own?.url ?? process.env.REDIS_URL, JOBS_EAGER: 'false' },
            database,
            pgliteDir: database.url ? undefined : path.join(dir, 'pglite'),
          });
          expect(t.deps.jobs.mode).toBe('queue');
          await t.close();
        }
      } finally {
        await database.drop();
        rmSync(dir, { recursive: true, force: true });
        await own?.stop();
      }
    }, 120_000);
  },
);
