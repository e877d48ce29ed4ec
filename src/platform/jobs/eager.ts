import { errorMessage } from '../errors/describe.js';
import { backoffDelay, JobQueue } from './queue.js';
import type { JobRow } from './schema.js';
import { claimDueForRun, markAttemptFailed, markSucceeded, releaseStale } from './store.js';

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
    const ctx = this.context(row);
    const definition = this.registry.get(row.name);
    try {
      if (!definition) throw new Error(`No job named ${row.name} is registered`);
      await definition.run(row.payload, ctx);
      await markSucceeded(this.db, row.id);
      ctx.log.info({ attempt: row.attempts }, 'job succeeded');
    } catch (err) {
      const final = !definition || row.attempts >= row.maxAttempts;
      const delayMs = backoffDelay(this.options.backoffMs, row.attempts);
      await markAttemptFailed(
        this.db,
        row.id,
        errorMessage(err),
        final ? { final } : { final, next: 'pending', delayMs },
      );
      if (final) {
        ctx.log.error({ err, attempt: row.attempts }, 'job failed for good');
      } else {
        ctx.log.warn({ err, attempt: row.attempts, retryInMs: delayMs }, 'job failed; will retry');
        setTimeout(() => this.kick(), delayMs).unref();
      }
    }
  }
}
