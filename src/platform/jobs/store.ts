import { and, asc, desc, eq, inArray, lt, lte, or, sql } from 'drizzle-orm';
import type { Db, Executor } from '../db/client.js';
import { jobs, type JobRow } from './tables.js';

/** SQL over the `jobs` table; every state change of a job goes through here. */

export interface NewJob {
  name: string;
  payload: Record<string, unknown>;
  maxAttempts: number;
  requestId?: string | null | undefined;
  uniqueKey?: string | undefined;
}

/** Returns the new id, or null when a job with the same unique key exists already. */
export async function insertJob(executor: Executor, job: NewJob): Promise<number | null> {
  const rows = await executor
    .insert(jobs)
    .values({
      name: job.name,
      payload: job.payload,
      maxAttempts: job.maxAttempts,
      requestId: job.requestId ?? null,
      uniqueKey: job.uniqueKey,
    })
    .onConflictDoNothing({ target: jobs.uniqueKey })
    .returning({ id: jobs.id });
  return rows[0]?.id ?? null;
}

/**
 * `status = 'pending'` written out, as the partial index `jobs_due_idx` says it: bound as a
 * parameter, a prepared statement's generic plan could not use that index, and the pollers would
 * scan the whole table, finished jobs included, every few seconds.
 */
const due = and(sql`${jobs.status} = 'pending'`, lte(jobs.runAfter, sql`now()`));

/** Eager mode: takes due jobs for this process and counts the attempt. */
export async function claimDueForRun(db: Db, limit: number): Promise<JobRow[]> {
  const ids = db.select({ id: jobs.id }).from(jobs).where(due).orderBy(asc(jobs.id)).limit(limit);
  return db
    .update(jobs)
    .set({ status: 'running', attempts: sql`${jobs.attempts} + 1`, updatedAt: sql`now()` })
    .where(and(inArray(jobs.id, ids.for('update', { skipLocked: true })), due))
    .returning();
}

/**
 * Queue mode: due jobs, plus jobs handed over long ago and not heard of since (the queue
 * may have lost them, e.g. a Redis restart without persistence). Locked for the caller's transaction.
 */
export async function lockForDispatch(executor: Executor, limit: number, staleMs: number): Promise<JobRow[]> {
  const stale = and(
    eq(jobs.status, 'queued'),
    lt(jobs.updatedAt, sql`now() - ${staleMs} * interval '1 millisecond'`),
  );
  return executor
    .select()
    .from(jobs)
    .where(or(due, stale))
    .orderBy(asc(jobs.id))
    .limit(limit)
    .for('update', { skipLocked: true });
}

export async function markQueued(executor: Executor, ids: number[], redispatched: number[]): Promise<void> {
  const fresh = ids.filter((id) => !redispatched.includes(id));
  if (fresh.length > 0) {
    await executor
      .update(jobs)
      .set({ status: 'queued', dispatches: sql`${jobs.dispatches} + 1`, updatedAt: sql`now()` })
      .where(inArray(jobs.id, fresh));
  }
  if (redispatched.length > 0) {
    await executor
      .update(jobs)
      .set({ updatedAt: sql`now()` })
      .where(inArray(jobs.id, redispatched));
  }
}

/**
 * Queue mode: the worker starts an attempt. Null when the job is finished already (a duplicate delivery).
 * `pending` qualifies too: a worker can take the job before the dispatching transaction has committed
 * `queued`; matching `pending` makes PostgreSQL wait for that transaction's row lock and re-check,
 * where a `queued`-only condition would skip the row as it stood in the snapshot.
 */
export async function startAttempt(db: Db, id: number): Promise<JobRow | null> {
  const rows = await db
    .update(jobs)
    .set({ status: 'running', attempts: sql`${jobs.attempts} + 1`, updatedAt: sql`now()` })
    .where(and(eq(jobs.id, id), inArray(jobs.status, ['pending', 'queued', 'running'])))
    .returning();
  return rows[0] ?? null;
}

export async function markSucceeded(db: Db, id: number, result: string | null = null): Promise<void> {
  await db
    .update(jobs)
    .set({ status: 'succeeded', lastError: null, result, updatedAt: sql`now()`, finishedAt: sql`now()` })
    .where(eq(jobs.id, id));
}

/**
 * Records a failed attempt: `failed` for good after the last one; otherwise back to `next`
 * (`pending` with a delay when this process retries it, `queued` when the queue does).
 */
export async function markAttemptFailed(
  db: Db,
  id: number,
  error: string,
  outcome: { final: true } | { final: false; next: 'pending' | 'queued'; delayMs: number },
): Promise<void> {
  const lastError = error.slice(0, 4000);
  if (outcome.final) {
    await db
      .update(jobs)
      .set({ status: 'failed', lastError, updatedAt: sql`now()`, finishedAt: sql`now()` })
      .where(eq(jobs.id, id));
    return;
  }
  await db
    .update(jobs)
    .set({
      status: outcome.next,
      lastError,
      updatedAt: sql`now()`,
      runAfter: sql`now() + ${outcome.delayMs} * interval '1 millisecond'`,
    })
    .where(eq(jobs.id, id));
}

/** Eager mode: a process that died mid-job leaves it `running`; after the lease it is due again. */
export async function releaseStale(db: Db, leaseMs: number): Promise<void> {
  await db
    .update(jobs)
    .set({ status: 'pending', updatedAt: sql`now()` })
    .where(
      and(eq(jobs.status, 'running'), lt(jobs.updatedAt, sql`now() - ${leaseMs} * interval '1 millisecond'`)),
    );
}

export async function listFailed(db: Db, limit: number): Promise<JobRow[]> {
  return db.select().from(jobs).where(eq(jobs.status, 'failed')).orderBy(desc(jobs.updatedAt)).limit(limit);
}

export async function findJob(db: Db, id: number): Promise<JobRow | null> {
  const rows = await db.select().from(jobs).where(eq(jobs.id, id));
  return rows[0] ?? null;
}

/** A failed job gets a fresh set of attempts and is due at once. Null unless it was failed. */
export async function resetFailed(db: Db, id: number): Promise<JobRow | null> {
  const rows = await db
    .update(jobs)
    .set({
      status: 'pending',
      attempts: 0,
      lastError: null,
      finishedAt: null,
      runAfter: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(jobs.id, id), eq(jobs.status, 'failed')))
    .returning();
  return rows[0] ?? null;
}

/** Discards every job not yet run; returns how many. */
export async function deleteUnstarted(db: Db): Promise<number> {
  const rows = await db
    .delete(jobs)
    .where(inArray(jobs.status, ['pending', 'queued']))
    .returning({ id: jobs.id });
  return rows.length;
}
