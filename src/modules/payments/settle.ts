import { and, eq } from 'drizzle-orm';
import type { Tx } from '../../platform/db/transaction.js';
import type { Deps } from '../../platform/deps.js';
import { lockOrderForPayment, moveOrder } from '../orders/index.js';
import type { GatewayEvent, PaymentGateway } from './gateway.js';
import { lockPayment, PAYMENTS_SCOPE } from './read.js';
import { refundLocked } from './refunds.js';
import { payments, refunds } from './tables.js';

/**
 * What one verified, first-seen event does, in the transaction that recorded it; returns what it
 * did, for the event's row. The order is locked before the payment (the house order), and the
 * payment's state is judged under its lock, so an event and anything racing it (another event of
 * the payment, the expiry, a cancel) take turns and each sees what the one before did.
 * - `payment.succeeded` of a pending payment, with its amount and currency: the payment succeeds
 *   and a pending order is confirmed; an order no longer pending (expired, cancelled, or confirmed
 *   by another payment) is refunded the whole payment at once.
 * - `payment.succeeded` of a payment that had failed: the same (the money was taken after all).
 * - `payment.failed` of a pending payment: the payment fails; the order stays pending, payable.
 * - `refund.succeeded`: our refunds are recorded when the gateway accepts them, so this only
 *   confirms one we know.
 * Anything else changes nothing: an unknown reference, a payment already settled, and an amount or
 * currency that is not the payment's (logged as an error: it means a bug or a forgery with a leaked
 * secret).
 */
export async function settleEvent(
  deps: Deps,
  tx: Tx,
  gateway: PaymentGateway,
  event: GatewayEvent,
): Promise<string> {
  const log = deps.log.child({ gateway: gateway.name, event: event.id, type: event.type });
  if (event.type === 'refund.succeeded') {
    const [known] = await tx
      .select({ id: refunds.id })
      .from(refunds)
      .where(eq(refunds.reference, event.reference));
    if (known) return 'refund already recorded';
    log.warn({ reference: event.reference }, 'webhook for a refund we did not make; nothing changed');
    return 'ignored: unknown refund';
  }
  const [found] = await tx
    .select()
    .from(payments)
    .where(and(eq(payments.gateway, gateway.name), eq(payments.reference, event.reference)));
  if (!found) {
    log.warn({ reference: event.reference }, 'webhook for an unknown payment; nothing changed');
    return 'ignored: unknown reference';
  }
  if (found.amount !== event.amount || found.currency !== event.currency) {
    log.error(
      {
        payment: found.id,
        expected: [found.amount, found.currency],
        received: [event.amount, event.currency],
      },
      'webhook amount or currency does not match the payment; nothing changed',
    );
    return 'ignored: amount mismatch';
  }
  const order = await lockOrderForPayment(tx, found.orderId);
  const payment = await lockPayment(tx, found.id);
  const succeeded = event.type === 'payment.succeeded';
  // A success after a reported failure is money taken all the same (events cross, a bank retries):
  // it is settled like a success of a pending payment. Anything else settled stays as it is.
  const settleable = payment.status === 'pending' || (succeeded && payment.status === 'failed');
  if (!settleable) return `ignored: payment already ${payment.status}`;

  const [settled] = await tx
    .update(payments)
    .set({ status: succeeded ? 'succeeded' : 'failed', updatedAt: deps.clock() })
    .where(and(eq(payments.id, payment.id), eq(payments.status, payment.status)))
    .returning();
  tx.afterCommit(() => deps.responseCache.invalidate(PAYMENTS_SCOPE));
  if (!succeeded) return 'failed';
  if (order?.status === 'pending') {
    await moveOrder(deps, tx, {
      orderId: order.id,
      to: 'confirmed',
      mover: 'system',
      actorId: null,
      reason: `payment ${payment.id} succeeded`,
    });
    return 'confirmed';
  }
  await refundLocked(deps, tx, gateway, settled!, {
    amount: null,
    reason: `paid after the order was ${order?.status ?? 'gone'}`,
    actorId: null,
  });
  log.warn(
    { payment: payment.id, order: order?.id, status: order?.status },
    'payment for an order no longer pending refunded',
  );
  return 'refunded: order no longer pending';
}
