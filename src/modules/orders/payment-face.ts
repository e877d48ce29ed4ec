import { eq } from 'drizzle-orm';
import type { Tx } from '../../platform/db/transaction.js';
import { orders } from './tables.js';
import type { OrderStatus } from './workflow.js';

export interface OrderToPay {
  id: string;
  userId: number;
  status: OrderStatus;
  totalAmount: string;
  currency: string;
}

/**
 * For payments, in its transaction: the order's row locked (`FOR NO KEY UPDATE`: it conflicts with
 * every status update and with itself, but not with the key-share locks that rows referencing the
 * order take, such as the confirmation e-mail's claim held while it sends), or null. Everything that
 * touches an order and its payments locks the order first, then the payment (pay, a webhook, a
 * refund, and a cancel, whose status update takes the order's lock before its hooks run), so they
 * wait for each other and never deadlock.
 */
export async function lockOrderForPayment(tx: Tx, orderId: string): Promise<OrderToPay | null> {
  const [order] = await tx
    .select({
      id: orders.id,
      userId: orders.userId,
      status: orders.status,
      totalAmount: orders.totalAmount,
      currency: orders.currency,
    })
    .from(orders)
    .where(eq(orders.id, orderId))
    .for('no key update');
  return order ?? null;
}
