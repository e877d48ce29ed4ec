import { and, eq, sql } from 'drizzle-orm';
import type { Tx } from '../../platform/db/transaction.js';
import type { Deps } from '../../platform/deps.js';
import { HttpError } from '../../platform/errors/http-errors.js';
import { fromCents, toCents } from '../../platform/money.js';
import type { PaymentGateway } from './gateway.js';
import { PAYMENTS_SCOPE } from './read.js';
import { payments, refunds, type Payment } from './tables.js';

export interface RefundRequest {
  /** Canonical two-place amount; null: what is left. */
  amount: string | null;
  reason: string;
  /** The staff member asking, or null for the system. */
  actorId: number | null;
}

export type RefundOutcome =
  | { ok: true; payment: Payment; full: boolean }
  | { ok: false; reason: 'not_refundable'; status: Payment['status'] }
  | { ok: false; reason: 'too_much'; left: string };

/**
 * Refunds part or all of a payment whose row the caller has locked (`FOR NO KEY UPDATE`, after the
 * order's), in the caller's transaction. The amount is taken first, by a conditional update
 * (`refunded_amount + x <= amount` on a `succeeded` payment): the guard is the database's, so
 * concurrent refunds never add up past what was paid, even if a caller forgot the lock. Then the
 * gateway is asked (with the idempotency key below); if it refuses, this throws a
 * 502, the transaction rolls back and nothing is recorded. The full amount refunded moves the
 * payment to `refunded`.
 *
 * The gateway's idempotency key is made of the payment, what it had refunded before and this amount:
 * if anything after the gateway's call fails (a lock timeout, a crash) the transaction rolls back,
 * the Idempotency-Key is released, and the client's retry asks the gateway again with the same key,
 * so the money goes back once.
 */
export async function refundLocked(
  deps: Deps,
  tx: Tx,
  gateway: PaymentGateway,
  payment: Payment,
  request: RefundRequest,
): Promise<RefundOutcome> {
  if (payment.status !== 'succeeded') return { ok: false, reason: 'not_refundable', status: payment.status };
  const left = toCents(payment.amount) - toCents(payment.refundedAmount);
  const wanted = request.amount === null ? left : toCents(request.amount);
  if (wanted > left || wanted <= 0n) return { ok: false, reason: 'too_much', left: fromCents(left) };
  const amount = fromCents(wanted);
  const added = sql`${payments.refundedAmount} + ${amount}::numeric`;
  const [taken] = await tx
    .update(payments)
    .set({
      refundedAmount: added,
      status: sql`CASE WHEN ${added} = ${payments.amount} THEN 'refunded' ELSE ${payments.status} END`,
      updatedAt: sql`now()`,
    })
    .where(
      and(eq(payments.id, payment.id), eq(payments.status, 'succeeded'), sql`${added} <= ${payments.amount}`),
    )
    .returning();
  if (!taken) return { ok: false, reason: 'too_much', left: fromCents(left) };
  let reference: string;
  try {
    ({ reference } = await gateway.refund(deps, {
      paymentReference: payment.reference,
      refundKey: `refund:${payment.id}:${payment.refundedAmount}:${amount}`,
      amount,
      currency: payment.currency,
    }));
  } catch (err) {
    deps.log.error({ err, payment: payment.id, amount }, 'the gateway refused a refund');
    throw new HttpError(502, { detail: 'The payment gateway refused the refund; nothing was refunded.' });
  }
  await tx.insert(refunds).values({
    paymentId: payment.id,
    amount,
    reason: request.reason,
    reference,
    actorId: request.actorId,
  });
  tx.afterCommit(() => deps.responseCache.invalidate(PAYMENTS_SCOPE));
  return { ok: true, full: taken.status === 'refunded', payment: taken };
}
