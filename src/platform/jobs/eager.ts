import { backoffDelay, JobQueue } from './queue.js';
import type { JobRow } from './tables.js';
import { claimDueForRun, releaseStale } from './store.js';

// A job still `running` after this long belonged to a process that died.
const RUNNING_LEASE_MS = 15 * 60_000;

/** Runs jobs inside this process, right after the transaction that scheduled them commits. */
export class EagerJobQueue<TDeps> extends JobQueue<TDeps> {
  readonly mode = 'eager' as const;

  ping(): Promise<boolean> {
    return Promise.resolve(true);
  }

  protected async dispatchBatch(): Promise<number> {
    await releaseStale(this.db, RUNNING_LEASE_MS);
    const rows = await claimDueForRun(this.db, 10);
    await Promise.all(rows.map((row) => this.run(row)));
    return rows.length;
  }

  private async run(row: JobRow): Promise<void> {
    const delayMs = backoffDelay(this.options.backoffMs, row.attempts);
    const failure = await this.runAttempt(row, {
      last: row.attempts >= row.maxAttempts,
      next: 'pending',
      delayMs,
    });
    if (failure && !failure.final) setTimeout(() => this.kick(), delayMs).unref();
  }
}
