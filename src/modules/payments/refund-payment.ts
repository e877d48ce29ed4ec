import type { Principal } from '../../platform/auth.js';
import type { Tx } from '../../platform/db/transaction.js';
import type { Deps } from '../../platform/deps.js';
import { parseDecimal } from '../../platform/decimal.js';
import { conflict, fieldError } from '../../platform/errors/http-errors.js';
import type { IdempotentAnswer } from '../../platform/idempotency/index.js';
import { canMove, lockOrderForPayment, moveOrder } from '../orders/index.js';
import { GATEWAYS } from './gateways/index.js';
import { lockPayment, paymentView, paymentVisibleTo } from './read.js';
import { refundLocked } from './refunds.js';
import type { RefundInput } from './schemas.js';

function refundAmount(input: RefundInput): string | null {
  if (input.amount === undefined) return null;
  const parsed = parseDecimal(input.amount, { maxDigits: 12, places: 2, min: 0 });
  if ('error' in parsed) throw fieldError('amount', parsed.error);
  if (Number(parsed.value) <= 0) throw fieldError('amount', 'Ensure this value is greater than 0.');
  return parsed.value;
}

/**
 * `POST /api/payments/<id>/refund/` (staff): refunds `amount` (default: what is left) through the
 * payment's gateway. The order's row, then the payment's, are locked, so concurrent refunds of one
 * payment take turns and each sees what the others refunded; the conditional update in
 * `refundLocked` guards the total all the same. The last of the money refunded moves the order to
 * `refunded` (the stock comes back if it had not shipped; the customer is e-mailed).
 */
export async function refundPayment(
  deps: Deps,
  tx: Tx,
  principal: Principal,
  id: string,
  input: RefundInput,
): Promise<IdempotentAnswer> {
  const amount = refundAmount(input);
  const found = await paymentVisibleTo(tx, principal, id);
  const order = await lockOrderForPayment(tx, found.orderId);
  const payment = await lockPayment(tx, found.id);
  const gateway = GATEWAYS.get(payment.gateway);
  if (!gateway) throw conflict(`The gateway ${payment.gateway} is not available; refund it there.`);
  const outcome = await refundLocked(deps, tx, gateway, payment, {
    amount,
    reason: input.reason ?? '',
    actorId: principal.userId,
  });
  if (!outcome.ok) {
    if (outcome.reason === 'not_refundable') {
      throw conflict(`Only a succeeded payment can be refunded; this one is ${outcome.status}.`);
    }
    throw fieldError('amount', `At most ${outcome.left} is left to refund.`);
  }
  if (outcome.full && order && canMove(order.status, 'refunded', 'refund')) {
    await moveOrder(deps, tx, {
      orderId: order.id,
      to: 'refunded',
      mover: 'refund',
      actorId: principal.userId,
      reason: input.reason || `payment ${payment.id} refunded`,
    });
  }
  return { status: 200, body: paymentView(outcome.payment) };
}
