import { and, eq } from 'drizzle-orm';
import type { Principal } from '../../platform/auth.js';
import type { Tx } from '../../platform/db/transaction.js';
import type { Deps } from '../../platform/deps.js';
import { conflict, fieldError, forbidden, HttpError, notFound } from '../../platform/errors/http-errors.js';
import type { IdempotentAnswer } from '../../platform/idempotency/index.js';
import { UUID_PATTERN } from '../../platform/ids.js';
import { lockOrderForPayment } from '../orders/index.js';
import type { PaymentGateway } from './gateway.js';
import { paymentView, PAYMENTS_SCOPE } from './read.js';
import { payments, type Payment } from './tables.js';

const answer = (status: number, payment: Payment): IdempotentAnswer => ({
  status,
  body: { payment: paymentView(payment), next_action: payment.nextAction },
});

/**
 * `POST /api/orders/<id>/pay/`: starts paying a pending order through a gateway (201), or answers
 * the payment already pending for it (200), however often and however concurrently it is called:
 * the order's row is locked first, so calls take turns and the second finds the first's payment
 * (and the partial unique index on pending payments backs it). The gateway's call runs under that
 * lock: a slow provider holds up only this order.
 */
export async function payOrder(
  deps: Deps,
  tx: Tx,
  principal: Principal,
  orderId: string,
  gateway: { name: string; enabled: ReadonlyMap<string, PaymentGateway> },
): Promise<IdempotentAnswer> {
  const order = UUID_PATTERN.test(orderId) ? await lockOrderForPayment(tx, orderId.toLowerCase()) : null;
  if (!order || (order.userId !== principal.userId && !principal.isStaff)) throw notFound();
  if (order.userId !== principal.userId) throw forbidden("Only the order's customer can pay for it.");
  if (order.status !== 'pending')
    throw conflict(`Only a pending order can be paid; this one is ${order.status}.`);
  if (Number(order.totalAmount) === 0) throw conflict('This order has nothing to pay.');
  const [pending] = await tx
    .select()
    .from(payments)
    .where(and(eq(payments.orderId, order.id), eq(payments.status, 'pending')));
  if (pending) return answer(200, pending);

  const chosen = gateway.enabled.get(gateway.name);
  if (!chosen) {
    const names = [...gateway.enabled.keys()];
    throw fieldError(
      'gateway',
      names.length === 0
        ? 'No payment gateway is enabled.'
        : `"${gateway.name}" is not a valid choice. Choose one of: ${names.join(', ')}.`,
    );
  }
  let started: Awaited<ReturnType<PaymentGateway['createPayment']>>;
  try {
    started = await chosen.createPayment(deps, {
      orderId: order.id,
      amount: order.totalAmount,
      currency: order.currency,
    });
  } catch (err) {
    deps.log.error({ err, order: order.id, gateway: chosen.name }, 'the gateway refused to start a payment');
    throw new HttpError(502, { detail: 'The payment gateway could not start the payment; try again.' });
  }
  const [payment] = await tx
    .insert(payments)
    .values({
      orderId: order.id,
      userId: order.userId,
      gateway: chosen.name,
      amount: order.totalAmount,
      currency: order.currency,
      reference: started.reference,
      nextAction: started.nextAction,
      createdAt: deps.clock(),
      updatedAt: deps.clock(),
    })
    .returning();
  tx.afterCommit(() => deps.responseCache.invalidate(PAYMENTS_SCOPE));
  return answer(201, payment!);
}
