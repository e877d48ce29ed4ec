import type { Db, DrizzleTx } from './client.js';

/** An open transaction that also collects work to do once it has committed (never on rollback). */
export type Tx = DrizzleTx & { afterCommit(hook: () => void): void };

/** One use case, one transaction: services call this and pass `tx` down. */
export async function transaction<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  const hooks: Array<() => void> = [];
  const result = await db.transaction(async (drizzleTx) => {
    const tx = Object.assign(drizzleTx, { afterCommit: (hook: () => void) => void hooks.push(hook) });
    return work(tx);
  });
  for (const hook of hooks) hook();
  return result;
}
