import { inArray } from 'drizzle-orm';
import type { Deps } from '../../src/deps.js';
import { jobs } from '../../src/platform/jobs/tables.js';
import { waitFor } from './wait.js';

/**
 * Waits until no job is waiting or running: in this process (eager) or in a queue worker. Jobs write
 * to the rows tests compare (e.g. the verification record), so "nothing changed" is checked after.
 */
export async function settleJobs(deps: Deps, timeoutMs = 10_000): Promise<void> {
  await deps.jobs.idle();
  await waitFor(
    async () =>
      (
        await deps.db
          .select({ id: jobs.id })
          .from(jobs)
          .where(inArray(jobs.status, ['pending', 'queued', 'running']))
      ).length === 0,
    timeoutMs,
    'background jobs to finish',
  );
}
