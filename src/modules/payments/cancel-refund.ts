import { and, asc, eq } from 'drizzle-orm';
import type { Tx } from '../../platform/db/transaction.js';
import type { Deps } from '../../platform/deps.js';
import { conflict } from '../../platform/errors/http-errors.js';
import type { MoveHook } from '../orders/index.js';
import { GATEWAYS } from './gateways/index.js';
import { refundLocked } from './refunds.js';
import { payments } from './tables.js';

/**
 * A paid order that is cancelled (by its customer, staff or the expiry) is refunded, in the cancel's
 * transaction: what is left of each succeeded payment goes back through its gateway. The cancel's
 * status update holds the order's lock already; the payments are locked after it, as everywhere. If
 * a gateway refuses, the cancel fails with it (502) and the order stays as it was.
 */
export const refundOnCancel: MoveHook = async (deps: Deps, tx: Tx, move) => {
  if (move.to !== 'cancelled') return;
  const paid = await tx
    .select()
    .from(payments)
    .where(and(eq(payments.orderId, move.orderId), eq(payments.status, 'succeeded')))
    .orderBy(asc(payments.id))
    .for('no key update');
  for (const payment of paid) {
    const gateway = GATEWAYS.get(payment.gateway);
    if (!gateway)
      throw conflict(
        `The order was paid through ${payment.gateway}, which is not available; refund it there.`,
      );
    await refundLocked(deps, tx, gateway, payment, {
      amount: null,
      reason: move.reason ? `order cancelled: ${move.reason}` : 'order cancelled',
      actorId: move.actorId,
    });
  }
};
