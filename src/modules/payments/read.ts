import { and, eq, gt, gte, lt, lte, type SQL } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../../platform/auth.js';
import type { Executor } from '../../platform/db/client.js';
import type { Deps } from '../../platform/deps.js';
import { notFound } from '../../platform/errors/http-errors.js';
import { serialIdOf } from '../../platform/ids.js';
import {
  choiceFilter,
  countAll,
  dateTimeFilter,
  decimalFilter,
  listPage,
  textFilter,
  type ListSpec,
} from '../../platform/list/index.js';
import { PAYMENT_STATUSES, payments, type Payment } from './tables.js';

/** The response-cache scope of the payment lists: any payment change makes every cached list stale. */
export const PAYMENTS_SCOPE = 'payments';

export const paymentView = (p: Payment) => ({
  id: p.id,
  order: p.orderId,
  user: p.userId,
  gateway: p.gateway,
  amount: p.amount,
  currency: p.currency,
  status: p.status,
  refunded_amount: p.refundedAmount,
  reference: p.reference,
  created_at: p.createdAt.toISOString(),
  updated_at: p.updatedAt.toISOString(),
});

export const paymentListSpec: ListSpec = {
  filters: {
    status: choiceFilter('Payments in this status.', PAYMENT_STATUSES, (v) => eq(payments.status, v)),
    gateway: textFilter('Payments through this gateway.', (v) => eq(payments.gateway, v)),
    currency: textFilter('Payments in this currency (e.g. USD).', (v) =>
      eq(payments.currency, v.toUpperCase()),
    ),
    amount: decimalFilter('Amount exactly this.', (v) => eq(payments.amount, v)),
    amount__lt: decimalFilter('Amount below this.', (v) => lt(payments.amount, v)),
    amount__lte: decimalFilter('Amount at most this.', (v) => lte(payments.amount, v)),
    amount__gt: decimalFilter('Amount above this.', (v) => gt(payments.amount, v)),
    amount__gte: decimalFilter('Amount at least this.', (v) => gte(payments.amount, v)),
    created_after: dateTimeFilter('Created at or after this time (ISO 8601).', (v) =>
      gte(payments.createdAt, v),
    ),
    created_before: dateTimeFilter('Created at or before this time (ISO 8601).', (v) =>
      lte(payments.createdAt, v),
    ),
  },
  searchFields: [payments.reference, payments.gateway, payments.currency],
  ordering: { amount: payments.amount, created_at: payments.createdAt },
  defaultOrdering: '-created_at',
  tieBreaker: payments.id,
};

const visibleTo = (principal: Principal): SQL | undefined =>
  principal.isStaff ? undefined : eq(payments.userId, principal.userId);

/** `GET /api/payments/`: a customer's own, or every payment for staff. */
export function listPayments(deps: Deps, request: FastifyRequest, principal: Principal) {
  const mine = visibleTo(principal);
  return listPage(request, paymentListSpec, {
    count: async (q) =>
      (await deps.db.select({ count: countAll }).from(payments).where(and(mine, q.where)))[0]!.count,
    rows: async (q) =>
      (
        await deps.db
          .select()
          .from(payments)
          .where(and(mine, q.where))
          .orderBy(...q.orderBy)
          .limit(q.limit)
          .offset(q.offset)
      ).map(paymentView),
  });
}

/** A payment the caller may see: anyone else's, or a malformed id, is a 404. */
export async function paymentVisibleTo(
  executor: Executor,
  principal: Principal,
  id: string,
): Promise<Payment> {
  const n = serialIdOf(id);
  if (n === null) throw notFound();
  const [row] = await executor
    .select()
    .from(payments)
    .where(and(eq(payments.id, n), visibleTo(principal)));
  if (!row) throw notFound();
  return row;
}

/** The payment's row locked (`FOR NO KEY UPDATE`: refunds referencing it stay free); take the order's lock first. */
export async function lockPayment(executor: Executor, id: number): Promise<Payment> {
  const [row] = await executor.select().from(payments).where(eq(payments.id, id)).for('no key update');
  return row!;
}
