import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../src/deps.js';
import { transaction } from '../../src/platform/db/transaction.js';
import { defineJob, type JobDefinition } from '../../src/platform/jobs/registry.js';

/**
 * Jobs whose effects a test can see: `probe_record` counts its runs per key,
 * `probe_flaky` fails while `failuresLeft` is above zero and notes when each attempt ran.
 */
export function probeJobs() {
  const runs = new Map<string, number>();
  const flaky = { failuresLeft: 0, attemptsAt: [] as number[] };
  const jobs: Array<JobDefinition<Deps>> = [
    defineJob<Deps, { key: string }>({
      name: 'probe_record',
      description: 'test probe: counts runs',
      run: ({ key }) => {
        runs.set(key, (runs.get(key) ?? 0) + 1);
        return Promise.resolve();
      },
    }),
    defineJob<Deps, object>({
      name: 'probe_flaky',
      description: 'test probe: fails on demand',
      run: () => {
        flaky.attemptsAt.push(Date.now());
        if (flaky.failuresLeft > 0) {
          flaky.failuresLeft--;
          return Promise.reject(new Error('probe failure'));
        }
        return Promise.resolve();
      },
    }),
  ];
  return { jobs, runs, flaky };
}

/** `POST /probe/enqueue/ {"job", "key"}` schedules a job in a transaction, as a service would. */
export function enqueueRoute(getDeps: () => Deps) {
  // eslint-disable-next-line @typescript-eslint/require-await
  return async (app: FastifyInstance) => {
    app.post('/probe/enqueue/', async (request) => {
      const { job, key } = request.body as { job: string; key?: string };
      const deps = getDeps();
      const id = await transaction(deps.db, (tx) => deps.jobs.enqueue(tx, job, key ? { key } : {}));
      return { id };
    });
  };
}
