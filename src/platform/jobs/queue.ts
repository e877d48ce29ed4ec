import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import type { Tx } from '../db/transaction.js';
import { currentRequestId } from '../request-context.js';
import type { JobContext, JobRegistry } from './registry.js';
import type { JobRow } from './tables.js';
import { errorMessage } from '../errors/describe.js';
import { insertJob, markAttemptFailed, markSucceeded } from './store.js';

export interface JobQueueOptions {
  maxRetries: number;
  backoffMs: number;
  pollMs: number;
}

/** Delay before retry number `attempt` (1-based): backoff, 2 x backoff, 4 x backoff… */
export function backoffDelay(backoffMs: number, attempt: number): number {
  return backoffMs * 2 ** Math.max(0, attempt - 1);
}

/**
 * Schedules jobs through the outbox and hands due ones on: to this process (eager) or to the
 * queue (BullMQ). Dispatch runs right after the scheduling transaction commits, and on a timer
 * so that nothing left behind (a crash, Redis down) is forgotten.
 */
export abstract class JobQueue<TDeps> {
  abstract readonly mode: 'eager' | 'queue';
  private timer: NodeJS.Timeout | undefined;
  private dispatching: Promise<void> | undefined;
  private again = false;
  private readonly lastPeriod = new Map<string, number>();
  private boundDeps: TDeps | undefined;

  constructor(
    protected readonly db: Db,
    readonly registry: JobRegistry<TDeps>,
    protected readonly options: JobQueueOptions,
    protected readonly log: Logger,
  ) {}

  /** Handlers receive these; set once the application's dependencies are complete. */
  bind(deps: TDeps): void {
    this.boundDeps = deps;
  }

  /** Records the job in the caller's transaction; it is dispatched once that transaction commits. */
  async enqueue(tx: Tx, name: string, payload: Record<string, unknown> = {}): Promise<number> {
    if (!this.registry.get(name)) throw new Error(`Unknown job ${name}`);
    const id = await insertJob(tx, {
      name,
      payload,
      maxAttempts: this.options.maxRetries + 1,
      requestId: currentRequestId(),
    });
    tx.afterCommit(() => this.kick());
    return id!;
  }

  /**
   * A periodic job now, as an extra run (`jobs:run`): the same row, queue and worker as its schedule,
   * but under a key of its own, so it neither takes nor is refused the period's one run. Its effects
   * stay exactly-once because they are keyed by the data, not by the period. Returns the row's id.
   */
  async runNow(name: string): Promise<number> {
    const id = await insertJob(this.db, {
      name,
      payload: {},
      maxAttempts: this.options.maxRetries + 1,
      uniqueKey: `${name}@manual:${new Date().toISOString()}:${randomUUID()}`,
    });
    this.kick();
    return id!;
  }

  /** Starts the safety-net timer; with `periodic`, this process also schedules the periodic jobs. */
  start({ periodic }: { periodic: boolean }): void {
    const tick = () => {
      const work = periodic ? this.schedulePeriodic() : Promise.resolve();
      work.then(
        () => this.kick(),
        (err: unknown) => this.log.warn({ err }, 'periodic job scheduling failed'),
      );
    };
    tick();
    this.timer = setInterval(tick, this.options.pollMs);
    this.timer.unref();
  }

  /** Dispatches due jobs now; calls made while a dispatch runs fold into one more round. */
  kick(): void {
    if (this.dispatching) {
      this.again = true;
      return;
    }
    this.dispatching = this.dispatchUntilQuiet().finally(() => {
      this.dispatching = undefined;
    });
  }

  /** Resolves when the dispatch under way (and the rounds it folded in) has finished. */
  async idle(): Promise<void> {
    while (this.dispatching) await this.dispatching;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.idle();
  }

  /** True when jobs can be handed over now. */
  abstract ping(): Promise<boolean>;

  /** Hands over one batch of due jobs; returns how many it handled. */
  protected abstract dispatchBatch(): Promise<number>;

  /**
   * Runs one attempt of a claimed job and records the outcome. A failure becomes `failed` for good
   * on the last attempt (or for a job no longer registered), else goes back to `retry.next`.
   * Returns the failure, if any, for the runner to act on.
   */
  protected async runAttempt(
    row: JobRow,
    retry: { last: boolean; next: 'pending' | 'queued'; delayMs: number },
  ): Promise<{ err: unknown; final: boolean } | null> {
    const ctx = this.context(row);
    const definition = this.registry.get(row.name);
    try {
      if (!definition) throw new Error(`No job named ${row.name} is registered`);
      const result = await definition.run(row.payload, ctx);
      await markSucceeded(this.db, row.id, result ?? null);
      ctx.log.info({ attempt: row.attempts }, 'job succeeded');
      return null;
    } catch (err) {
      const final = !definition || retry.last;
      await markAttemptFailed(
        this.db,
        row.id,
        errorMessage(err),
        final ? { final } : { final, next: retry.next, delayMs: retry.delayMs },
      );
      if (final) ctx.log.error({ err, attempt: row.attempts }, 'job failed for good');
      else ctx.log.warn({ err, attempt: row.attempts, retryInMs: retry.delayMs }, 'job failed; will retry');
      return { err, final };
    }
  }

  protected context(row: JobRow): JobContext<TDeps> {
    if (!this.boundDeps) throw new Error('JobQueue.bind() was not called');
    return {
      deps: this.boundDeps,
      log: this.log.child({ job: row.name, jobId: row.id, reqId: row.requestId ?? undefined }),
      jobId: row.id,
      attempt: row.attempts,
      requestId: row.requestId,
    };
  }

  private async dispatchUntilQuiet(): Promise<void> {
    do {
      this.again = false;
      try {
        while ((await this.dispatchBatch()) > 0);
      } catch (err) {
        this.log.warn({ err }, 'job dispatch failed; will retry on the next tick');
      }
    } while (this.again);
  }

  private async schedulePeriodic(): Promise<void> {
    const now = Date.now();
    for (const definition of this.registry.periodic()) {
      const periodStart = Math.floor(now / definition.everyMs) * definition.everyMs;
      if (this.lastPeriod.get(definition.name) === periodStart) continue;
      await insertJob(this.db, {
        name: definition.name,
        payload: {},
        maxAttempts: this.options.maxRetries + 1,
        uniqueKey: `${definition.name}@${new Date(periodStart).toISOString()}`,
      });
      this.lastPeriod.set(definition.name, periodStart);
    }
  }
}
