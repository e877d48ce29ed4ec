import { and, eq, sql } from 'drizzle-orm';
import { returnStock } from '../catalog/index.js';
import { releaseCoupon } from '../promotions/index.js';
import type { Tx } from '../../platform/db/transaction.js';
import type { Deps } from '../../platform/deps.js';
import { currentRequestId } from '../../platform/request-context.js';
import { SEND_ORDER_STATUS_EMAIL, STATUS_EMAILS } from './emails.js';
import { announceStatus } from './live.js';
import { orderHistory, orderLines, orders, type OrderHistoryRow } from './tables.js';
import { allowedMoves, canMove, returnsStock, type Mover, type OrderStatus } from './workflow.js';

export interface Move {
  orderId: string;
  to: OrderStatus;
  mover: Mover;
  /** The user making the move; null for the system. */
  actorId: number | null;
  reason?: string | undefined;
  idempotencyKey?: string | null;
}

export type MoveOutcome =
  | { ok: true; history: OrderHistoryRow }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'not_allowed'; from: OrderStatus; allowed: OrderStatus[] };

/**
 * Work other modules add to a move, in its transaction (payments will refund a paid order that is
 * cancelled). Registered once at start-up.
 */
export type MoveHook = (deps: Deps, tx: Tx, move: Move & { from: OrderStatus }) => Promise<void>;
const moveHooks: MoveHook[] = [];
export const onOrderMoved = (hook: MoveHook) => void moveHooks.push(hook);

/**
 * One move of the workflow table, in the caller's transaction: `UPDATE … WHERE status = <from>`, so
 * of two concurrent moves from one status exactly one wins (the loser re-reads and hears what is
 * allowed now), then the history row, the stock given back on a cancel or a refund before shipping,
 * the coupon's use on a cancel (once: only the winner gets here), the customer's e-mail, and the live event after commit.
 */
export async function moveOrder(deps: Deps, tx: Tx, move: Move): Promise<MoveOutcome> {
  for (;;) {
    const [current] = await tx
      .select({ status: orders.status })
      .from(orders)
      .where(eq(orders.id, move.orderId));
    if (!current) return { ok: false, reason: 'not_found' };
    const from = current.status;
    if (!canMove(from, move.to, move.mover)) {
      return { ok: false, reason: 'not_allowed', from, allowed: allowedMoves(from, move.mover) };
    }
    const [moved] = await tx
      .update(orders)
      .set({ status: move.to, updatedAt: sql`now()` })
      .where(and(eq(orders.id, move.orderId), eq(orders.status, from)))
      .returning({ id: orders.id });
    // Another move won between the read and the update: judge this one against where it went.
    if (!moved) continue;
    return { ok: true, history: await recordMove(deps, tx, { ...move, from }) };
  }
}

async function recordMove(deps: Deps, tx: Tx, move: Move & { from: OrderStatus }): Promise<OrderHistoryRow> {
  const [history] = await tx
    .insert(orderHistory)
    .values({
      orderId: move.orderId,
      fromStatus: move.from,
      toStatus: move.to,
      actorId: move.actorId,
      reason: move.reason ?? '',
      requestId: currentRequestId(),
      idempotencyKey: move.idempotencyKey ?? null,
    })
    .returning();
  if (returnsStock(move.from, move.to)) {
    const lines = await tx
      .select({ variantId: orderLines.variantId, quantity: orderLines.quantity })
      .from(orderLines)
      .where(eq(orderLines.orderId, move.orderId));
    await returnStock(deps, tx, lines);
  }
  if (move.to === 'cancelled') await releaseCoupon(tx, move.orderId);
  for (const hook of moveHooks) await hook(deps, tx, move);
  if (STATUS_EMAILS.includes(move.to)) {
    await deps.jobs.enqueue(tx, SEND_ORDER_STATUS_EMAIL, { order_id: move.orderId, status: move.to });
  }
  announceStatus(deps, tx, history!);
  return history!;
}
