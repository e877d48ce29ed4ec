import { hostname } from 'node:os';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { transaction } from '../db/transaction.js';
import { closeRedis, createRedis, pingRedis, withTimeout } from '../redis.js';
import { JobQueue, type JobQueueOptions } from './queue.js';
import type { JobRegistry } from './registry.js';
import { lockForDispatch, markQueued, startAttempt } from './store.js';

const QUEUE_NAME = 'jobs';
const PING_JOB = '__ping';
const HAND_OVER_TIMEOUT_MS = 5000;
// A job handed over this long ago with no news is handed over again under the same id:
// BullMQ ignores it if it still has the job, and takes it if it was lost.
const REDISPATCH_AFTER_MS = 10 * 60_000;

interface QueuedJobData {
  jobId: number;
}

export interface WorkerAnswer {
  host: string;
  pid: number;
}

/** Jobs on Redis through BullMQ: retries with exponential back-off, any number of workers. */
export class BullmqJobQueue<TDeps> extends JobQueue<TDeps> {
  readonly mode = 'queue' as const;
  private readonly producer: Redis;
  private readonly queue: Queue;
  private worker: Worker | undefined;
  private workerConnection: Redis | undefined;

  constructor(
    db: Db,
    registry: JobRegistry<TDeps>,
    options: JobQueueOptions,
    log: Logger,
    private readonly redisUrl: string,
    private readonly prefix: string,
  ) {
    super(db, registry, options, log);
    // Fail fast while Redis is down: the jobs wait in the outbox, not in memory.
    this.producer = createRedis(redisUrl, (err) => log.debug({ err }, 'job queue connection error'), {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    });
    this.queue = new Queue(QUEUE_NAME, { connection: this.producer, prefix });
    this.queue.on('error', (err) => log.debug({ err }, 'job queue error'));
  }

  ping(): Promise<boolean> {
    return pingRedis(this.producer);
  }

  protected async dispatchBatch(): Promise<number> {
    return transaction(this.db, async (tx) => {
      const rows = await lockForDispatch(tx, 100, REDISPATCH_AFTER_MS);
      if (rows.length === 0) return 0;
      const redispatched = rows.filter((row) => row.status === 'queued').map((row) => row.id);
      const bulk = rows.map((row) => {
        const dispatch = row.status === 'queued' ? row.dispatches : row.dispatches + 1;
        return {
          name: row.name,
          data: { jobId: row.id } satisfies QueuedJobData,
          opts: {
            jobId: `${row.id}-${dispatch}`,
            attempts: row.maxAttempts,
            backoff: { type: 'exponential', delay: this.options.backoffMs },
            removeOnComplete: { age: 3600 },
            removeOnFail: { age: 7 * 86_400 },
          },
        };
      });
      await withTimeout(this.queue.addBulk(bulk), HAND_OVER_TIMEOUT_MS, 'handing jobs to the queue');
      await markQueued(
        tx,
        rows.map((row) => row.id),
        redispatched,
      );
      return rows.length;
    });
  }

  /** Makes this process a worker: it takes jobs from the queue and runs them. */
  startWorker(concurrency: number): void {
    this.workerConnection = createRedis(
      this.redisUrl,
      (err) => this.log.warn({ err }, 'worker connection error'),
      {
        maxRetriesPerRequest: null,
      },
    );
    this.worker = new Worker<QueuedJobData>(QUEUE_NAME, (job) => this.process(job), {
      connection: this.workerConnection,
      prefix: this.prefix,
      concurrency,
    });
    this.worker.on('error', (err) => this.log.warn({ err }, 'worker error'));
  }

  /** Asks the workers to answer; resolves with the one that did, or rejects after `timeoutMs`. */
  async pingWorkers(timeoutMs: number): Promise<{ answer: WorkerAnswer; connected: number }> {
    const connection = createRedis(this.redisUrl, () => undefined, { maxRetriesPerRequest: null });
    const events = new QueueEvents(QUEUE_NAME, { connection, prefix: this.prefix });
    try {
      await events.waitUntilReady();
      const job = await this.queue.add(
        PING_JOB,
        { jobId: 0 },
        { removeOnComplete: true, removeOnFail: true },
      );
      const answer = (await withTimeout(
        job.waitUntilFinished(events),
        timeoutMs,
        'waiting for a worker',
      )) as WorkerAnswer;
      const connected = (await this.queue.getWorkers()).length;
      return { answer, connected };
    } finally {
      await events.close();
      await closeRedis(connection);
    }
  }

  /** Removes every job waiting or delayed in the queue. */
  async drainQueue(): Promise<void> {
    await this.queue.drain(true);
  }

  override async stop(): Promise<void> {
    await super.stop();
    if (this.worker) {
      // A worker closed while it is still connecting leaves commands behind that fail unhandled.
      await withTimeout(this.worker.waitUntilReady(), 2000, 'worker start').catch(() => undefined);
      await this.worker.close();
    }
    // The queue too: closed before its first commands (it loads its scripts on connecting) have
    // been answered, their replies are rejected with nobody waiting for them.
    await withTimeout(this.queue.waitUntilReady(), 2000, 'queue start').catch(() => undefined);
    await this.queue.close();
    await closeRedis(this.producer);
    if (this.workerConnection) await closeRedis(this.workerConnection);
  }

  private async process(job: Job<QueuedJobData>): Promise<WorkerAnswer | undefined> {
    if (job.name === PING_JOB) return { host: hostname(), pid: process.pid };
    const row = await startAttempt(this.db, job.data.jobId);
    if (!row) return undefined; // finished already: a redelivery changes nothing
    const failure = await this.runAttempt(row, {
      last: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
      next: 'queued',
      delayMs: 0,
    });
    if (!failure) return undefined;
    // Failed for good here means no further attempt either: BullMQ must not retry it.
    if (failure.final) job.discard();
    throw failure.err;
  }
}
