import type { Db, DrizzleTx } from './client.js';

/** An open transaction that also collects work to do once it has committed (never on rollback); hooks must not throw. */
export type Tx = DrizzleTx & { afterCommit(hook: () => void | Promise<void>): void };

const isTx = (executor: Db | Tx): executor is Tx => 'afterCommit' in executor;

/**
 * One use case, one transaction: services call this and pass `tx` down. Handed a transaction
 * already open, it joins it: the work commits or rolls back with the caller's, and its after-commit
 * hooks wait for that commit. So a use case in one module can call another module's use case
 * (checkout takes stock and redeems a coupon) and both stay one unit.
 */
export async function transaction<T>(executor: Db | Tx, work: (tx: Tx) => Promise<T>): Promise<T> {
  if (isTx(executor)) return work(executor);
  const hooks: Array<() => void | Promise<void>> = [];
  const result = await executor.transaction(async (drizzleTx) => {
    const tx = Object.assign(drizzleTx, {
      afterCommit: (hook: () => void | Promise<void>) => void hooks.push(hook),
    });
    return work(tx);
  });
  // Awaited, so that what a hook does (e.g. making cached lists stale) is done before the caller answers.
  for (const hook of hooks) await hook();
  return result;
}
