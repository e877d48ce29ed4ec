import { sql } from 'drizzle-orm';
import { bigserial, index, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { timestamptz } from '../db/columns.js';

export const JOB_STATUSES = ['pending', 'queued', 'running', 'succeeded', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * Every background job, from the moment a transaction schedules it (`pending`: the outbox)
 * through hand-over to the queue (`queued`) to its end (`succeeded` / `failed`).
 * Written in the caller's transaction, so a job exists exactly when the change that caused it does.
 */
export const jobs = pgTable(
  'jobs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    name: text('name').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    status: text('status', { enum: JOB_STATUSES }).notNull().default('pending'),
    /** Set for periodic runs (`name@period start`): the database keeps each period to one run. */
    uniqueKey: text('unique_key').unique(),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    /** How many times the row was handed to the queue; part of the queue's job id. */
    dispatches: integer('dispatches').notNull().default(0),
    runAfter: timestamptz('run_after').notNull().defaultNow(),
    lastError: text('last_error'),
    /** What a finished run reports it did (e.g. "3 reminders scheduled"); `jobs:run` prints it. */
    result: text('result'),
    requestId: text('request_id'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
    finishedAt: timestamptz('finished_at'),
  },
  (t) => [
    index('jobs_due_idx')
      .on(t.runAfter)
      .where(sql`status = 'pending'`),
    index('jobs_status_updated_idx').on(t.status, t.updatedAt),
  ],
);

export type JobRow = typeof jobs.$inferSelect;
