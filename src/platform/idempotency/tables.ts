import { index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { timestamptz } from '../db/columns.js';

/**
 * `Idempotency-Key`s, per caller and route (`scope`). A request claims its key (`running`, with a
 * lease) in a transaction of its own, so a concurrent twin sees it at once; the answer is recorded
 * (`done`) in the use case's own transaction, so it exists exactly when the effects do.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    /** SHA-256 of the request's method, path and canonical JSON body. */
    fingerprint: text('fingerprint').notNull(),
    state: text('state', { enum: ['running', 'done'] }).notNull(),
    /** A `running` claim older than this was left by a process that died: the next request takes it over. */
    leaseUntil: timestamptz('lease_until').notNull(),
    responseStatus: integer('response_status'),
    responseBody: text('response_body'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] }), index('idempotency_keys_created_idx').on(t.createdAt)],
);

export type IdempotencyKeyRow = typeof idempotencyKeys.$inferSelect;
