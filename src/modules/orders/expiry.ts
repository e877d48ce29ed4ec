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
 * reason `payment timeout`: stock and coupon use come back as on any cancel. Each order is cancelled
 * in a transaction of its own, as a customer's cancel is: one transaction for many orders would take
 * their variants and coupons out of order and could deadlock with checkouts. The order's row is
 * locked `FOR NO KEY UPDATE SKIP LOCKED` and re-checked, so two workers running this at once take
 * different orders, and an order a payment is confirming right now is left to that payment; the
 * move is the workflow's conditional update, so an order is cancelled once whatever runs. Orders
 * with nothing to pay (a total of 0.00) wait for staff instead. Returns how many were cancelled.
 */
export async function cancelUnpaidOrders(deps: Deps): Promise<number> {
  const timeout = deps.config.orderPaymentTimeoutMs;
  if (timeout <= 0) return 0;
  const cutoff = new Date(deps.clock().getTime() - timeout).toISOString();
  const overdue = sql`status = 'pending' AND created_at < ${cutoff}::timestamptz AND total_amount > 0`;
  let cancelled = 0;
  let after: { createdAt: string; id: string } | null = null;
  for (;;) {
    const from = after
      ? sql`AND (created_at, id) > (${after.createdAt}::timestamptz, ${after.id}::uuid)`
      : sql``;
    const page: Array<{ id: string; createdAt: string }> = await queryRows<{ id: string; createdAt: string }>(
      deps.db,
      sql`SELECT id::text AS id, created_at::text AS "createdAt" FROM orders
          WHERE ${overdue} ${from} ORDER BY created_at, id LIMIT ${BATCH}`,
    );
    for (const { id } of page) {
      const moved = await transaction(deps.db, async (tx) => {
        const [due] = await queryRows(
          tx,
          sql`SELECT id FROM orders WHERE id = ${id} AND ${overdue} FOR NO KEY UPDATE SKIP LOCKED`,
        );
        if (!due) return false;
        const move = await moveOrder(deps, tx, {
          orderId: id,
          to: 'cancelled',
          mover: 'system',
          actorId: null,
          reason: 'payment timeout',
        });
        return move.ok;
      });
      if (moved) cancelled++;
    }
    if (page.length < BATCH) return cancelled;
    after = page.at(-1)!;
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
