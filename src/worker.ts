import { buildDeps } from './deps.js';
import { configOrExit, exitOnSignal } from './lifecycle.js';
import type { BullmqJobQueue } from './platform/jobs/bullmq.js';

/** The job worker: takes jobs from Redis, relays the outbox and schedules the periodic jobs. */
async function main(): Promise<void> {
  const config = configOrExit();
  if (config.jobs.eager) {
    process.stderr.write(
      'Jobs are eager (no REDIS_URL, or JOBS_EAGER=true): they run inside the API process, so there is no worker to start.\n',
    );
    process.exit(1);
  }
  if (!config.databaseUrl) {
    process.stderr.write(
      'The worker needs DATABASE_URL: the embedded database belongs to the API process, which then runs the jobs itself.\n',
    );
    process.exit(1);
  }
  const deps = await buildDeps(config, { migrate: true });
  const queue = deps.jobs as BullmqJobQueue<typeof deps>;
  queue.startWorker(config.jobs.workerConcurrency);
  queue.start({ periodic: true });
  deps.log.info({ concurrency: config.jobs.workerConcurrency }, 'worker started');

  exitOnSignal(deps.log, config.shutdownTimeoutMs, 'finishing jobs under way', () => deps.close());
}

main().catch((err: unknown) => {
  process.stderr.write(`Worker failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
