import type { Db, DrizzleTx } from './client.js';

/** An open transaction that also collects work to do once it has committed (never on rollback); hooks must not throw. */
export type Tx = DrizzleTx & { afterCommit(hook: () => void | Promise<void>): void };

/** One use case, one transaction: services call this and pass `tx` down. */
export async function transaction<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  const hooks: Array<() => void | Promise<void>> = [];
  const result = await db.transaction(async (drizzleTx) => {
    const tx = Object.assign(drizzleTx, {
      afterCommit: (hook: () => void | Promise<void>) => void hooks.push(hook),
    });
    return work(tx);
  });
  // Awaited, so that what a hook does (e.g. making cached lists stale) is done before the caller answers.
  for (const hook of hooks) await hook();
  return result;
}
