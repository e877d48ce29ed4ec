import { eq, sql } from 'drizzle-orm';
import { queryRows, type Executor } from '../../platform/db/client.js';
import type { Tx } from '../../platform/db/transaction.js';
import type { Deps } from '../../platform/deps.js';
import { cartView, type CartView } from './cart-view.js';
import { cartHead, linesOf } from './carts.js';
import { carts } from './tables.js';

/** A cart as the reminder job sees it: whose, and which change of it (its `updated_at`). */
export interface IdleCart {
  cartId: string;
  userId: number;
  changedAt: Date;
}

type Row = { cartId: string; userId: number; changedAt: Date | string };
const idle = (r: Row): IdleCart => ({ ...r, changedAt: new Date(r.changedAt) });

/**
 * Carts with at least one line, untouched since `before`, whose last change has not been reminded
 * of: a page of them in `(updated_at, id)` order after `after`, so a caller can walk them all.
 */
export async function idleCarts(
  executor: Executor,
  before: Date,
  after: { changedAt: Date; cartId: string } | null,
  limit: number,
): Promise<IdleCart[]> {
  const from = after
    ? sql`AND (c.updated_at, c.id) > (${after.changedAt.toISOString()}::timestamptz, ${after.cartId}::uuid)`
    : sql``;
  const rows = await queryRows<Row>(
    executor,
    sql`SELECT c.id::text AS "cartId", c.user_id AS "userId", c.updated_at AS "changedAt" FROM carts c
        WHERE c.updated_at < ${before.toISOString()}::timestamptz ${from}
          AND (c.reminded_at IS NULL OR c.reminded_at < c.updated_at)
          AND EXISTS (SELECT 1 FROM cart_lines l WHERE l.cart_id = c.id)
        ORDER BY c.updated_at, c.id LIMIT ${limit}`,
  );
  return rows.map(idle);
}

/**
 * Records that these carts' last changes are being reminded of (`reminded_at` = the change's
 * `updated_at`, not the run's time: a change stamped by a process whose clock is behind is still
 * a new change), in the job's transaction, and
 * returns the ones it recorded: a cart changed since it was read (its `updated_at` moved; compared to
 * the millisecond, as JavaScript read it), or
 * recorded by a concurrent run, is left out. That conditional update is the reminder's "once": one
 * per cart and change, however many runs and workers.
 */
export async function markReminded(tx: Tx, idleCarts: IdleCart[]): Promise<IdleCart[]> {
  if (idleCarts.length === 0) return [];
  const rows = await queryRows<Row>(
    tx,
    sql`UPDATE carts c SET reminded_at = c.updated_at
        FROM jsonb_to_recordset(${JSON.stringify(idleCarts.map((c) => ({ id: c.cartId, changed: c.changedAt.toISOString() })))}::jsonb)
          AS x(id uuid, changed timestamptz)
        WHERE c.id = x.id AND date_trunc('milliseconds', c.updated_at) = x.changed AND (c.reminded_at IS NULL OR c.reminded_at < c.updated_at)
        RETURNING c.id::text AS "cartId", c.user_id AS "userId", c.updated_at AS "changedAt"`,
  );
  return rows.map(idle);
}

/** The cart as its page would show it now, with its owner, for the reminder e-mail; null if gone. */
export async function cartForReminder(
  deps: Deps,
  executor: Executor,
  cartId: string,
): Promise<{ userId: number; changedAt: Date; view: CartView } | null> {
  const [head] = await executor.select(cartHead).from(carts).where(eq(carts.id, cartId));
  if (!head) return null;
  return {
    userId: head.userId,
    changedAt: head.updatedAt,
    view: await cartView(deps, executor, head, await linesOf(executor, cartId)),
  };
}
