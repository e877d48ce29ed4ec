import { sql } from 'drizzle-orm';
import { queryRows, type Db } from '../db/client.js';
import type { Deps } from '../deps.js';
import { defineJob } from '../jobs/registry.js';
import { IDEMPOTENCY_RETENTION_MS } from './respond.js';

export const PURGE_IDEMPOTENCY_KEYS = 'purge_idempotency_keys';

/**
 * Deletes the keys older than the retention (24 h) at `now`, `batchSize` at a time, so no statement
 * holds many row locks or runs long. A key whose request is running right now (its row locked by
 * the use case's transaction) is skipped rather than waited for: the next run takes it.
 * Returns how many were deleted.
 */
export async function purgeIdempotencyKeys(db: Db, now: Date, batchSize = 1000): Promise<number> {
  const cutoff = new Date(now.getTime() - IDEMPOTENCY_RETENTION_MS).toISOString();
  let deleted = 0;
  for (;;) {
    const rows = await queryRows<{ key: string }>(
      db,
      sql`DELETE FROM idempotency_keys WHERE (scope, key) IN (
            SELECT scope, key FROM idempotency_keys WHERE created_at < ${cutoff}::timestamptz
            ORDER BY created_at LIMIT ${batchSize} FOR UPDATE SKIP LOCKED)
          RETURNING key`,
    );
    deleted += rows.length;
    if (rows.length < batchSize) return deleted;
  }
}

export const idempotencyJobs = [
  defineJob<Deps, Record<string, never>>({
    name: PURGE_IDEMPOTENCY_KEYS,
    description: 'Delete Idempotency-Keys older than 24 hours, 1,000 at a time',
    everyMs: 60 * 60 * 1000,
    async run(_payload, { deps, log }) {
      const deleted = await purgeIdempotencyKeys(deps.db, deps.clock());
      if (deleted > 0) log.info({ deleted }, 'old Idempotency-Keys deleted');
      return `${deleted} Idempotency-Key${deleted === 1 ? '' : 's'} deleted`;
    },
  }),
];
