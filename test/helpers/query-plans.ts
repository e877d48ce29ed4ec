import { sql } from 'drizzle-orm';
import type { Db } from '../../src/platform/db/client.js';
import { preparedPlan } from '../../src/platform/db/plans.js';
import { transaction } from '../../src/platform/db/transaction.js';

export interface SentQuery {
  query: string;
  params: unknown[];
}

/** Records the statements an app sends while `during` runs: give `onQuery` to createTestApp. */
export function queryRecorder() {
  const sent: SentQuery[] = [];
  let recording = false;
  return {
    onQuery: (query: string, params: unknown[]) => {
      if (recording) sent.push({ query, params });
    },
    async during(work: () => Promise<unknown>): Promise<SentQuery[]> {
      sent.length = 0;
      recording = true;
      try {
        await work();
      } finally {
        recording = false;
      }
      return [...sent];
    },
  };
}

class RolledBack extends Error {
  constructor(readonly plan: string) {
    super('rolled back');
  }
}

/**
 * The plan PostgreSQL uses for a statement once it plans it for any parameters (a generic plan,
 * forced here), with sequential scans off so that an unusable index shows: the statement runs
 * in a transaction that is rolled back, so an UPDATE changes nothing.
 */
export async function genericPlan(db: Db, { query, params }: SentQuery): Promise<string> {
  try {
    await transaction(db, async (tx) => {
      await tx.execute(sql`SET LOCAL plan_cache_mode = force_generic_plan`);
      await tx.execute(sql`SET LOCAL enable_seqscan = off`);
      throw new RolledBack((await preparedPlan(tx, query, params)).join('\n'));
    });
  } catch (err) {
    if (err instanceof RolledBack) return err.plan;
    throw err;
  }
  throw new Error('the transaction was not rolled back');
}
