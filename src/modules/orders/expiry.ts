import { sql } from 'drizzle-orm';
import { queryRows } from '../../platform/db/client.js';
import { transaction } from '../../platform/db/transaction.js';
import type { Deps } from '../../platform/deps.js';
import { defineJob } from '../../platform/jobs/registry.js';
import { moveOrder } from './move-status.js';

export const CANCEL_UNPAID_ORDERS = 'cancel_unpaid_orders';
const BATCH = 50;

/**
 * Cancels the `pending` orders placed more than `ORDER_PAYMENT_TIMEOUT` before `deps.clock()`, with
 * reason `payment timeout`: stock and coupon use come back as on any cancel. Batches are locked
 * `FOR NO KEY UPDATE SKIP LOCKED`, so two workers running it at once take different orders, and an order
 * a payment is confirming right now (its row locked) is left to that payment; each move is also the
 * workflow's conditional update, so an order is cancelled once whatever runs. Orders with nothing to
 * pay (a total of 0.00) wait for staff instead. Returns how many were cancelled.
 */
export async function cancelUnpaidOrders(deps: Deps): Promise<number> {
  const timeout = deps.config.orderPaymentTimeoutMs;
  if (timeout <= 0) return 0;
  const cutoff = new Date(deps.clock().getTime() - timeout).toISOString();
  let cancelled = 0;
  for (;;) {
    const batch = await transaction(deps.db, async (tx) => {
      const due = await queryRows<{ id: string }>(
        tx,
        sql`SELECT id::text AS id FROM orders
            WHERE status = 'pending' AND created_at < ${cutoff}::timestamptz AND total_amount > 0
            ORDER BY created_at LIMIT ${BATCH} FOR NO KEY UPDATE SKIP LOCKED`,
      );
      for (const { id } of due) {
        const moved = await moveOrder(deps, tx, {
          orderId: id,
          to: 'cancelled',
          mover: 'system',
          actorId: null,
          reason: 'payment timeout',
        });
        if (moved.ok) cancelled++;
      }
      return due.length;
    });
    if (batch < BATCH) return cancelled;
  }
}

export const expiryJobs = [
  defineJob<Deps, Record<string, never>>({
    name: CANCEL_UNPAID_ORDERS,
    description: 'Cancel pending orders unpaid for ORDER_PAYMENT_TIMEOUT (stock and coupon use come back)',
    everyMs: 60 * 1000,
    async run(_payload, { deps, log }) {
      const cancelled = await cancelUnpaidOrders(deps);
      if (cancelled > 0) log.info({ cancelled }, 'unpaid orders cancelled');
      return `${cancelled} unpaid order${cancelled === 1 ? '' : 's'} cancelled`;
    },
  }),
];
