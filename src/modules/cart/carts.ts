import { and, asc, eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import type { Tx } from '../../platform/db/transaction.js';
import type { CartHead, LineRow } from './cart-view.js';
import { cartLines, carts } from './tables.js';

export const cartHead = {
  id: carts.id,
  userId: carts.userId,
  couponId: carts.couponId,
  updatedAt: carts.updatedAt,
};
const lineColumns = { id: cartLines.id, variantId: cartLines.variantId, quantity: cartLines.quantity };

/**
 * Every write to a cart starts here: it locks the cart's row (`ON CONFLICT … DO UPDATE` and
 * `UPDATE` both take the row lock) and moves `updated_at`, in one statement. Writes to one cart
 * therefore run one after another, on any number of processes, and each one reads the lines that
 * the one before it committed (the lines are read by later statements, in fresh snapshots).
 */
export async function lockOrCreateCart(tx: Tx, userId: number, now: Date): Promise<CartHead> {
  const [cart] = await tx
    .insert(carts)
    .values({ userId, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({ target: carts.userId, set: { updatedAt: now } })
    .returning(cartHead);
  return cart!;
}

/** The same lock for a cart that must exist already (changing or removing a line); null if none. */
export async function lockCart(tx: Tx, userId: number, now: Date): Promise<CartHead | null> {
  const [cart] = await tx
    .update(carts)
    .set({ updatedAt: now })
    .where(eq(carts.userId, userId))
    .returning(cartHead);
  return cart ?? null;
}

/** A cart's lines in the order they were first added. */
export function linesOf(executor: Executor, cartId: string): Promise<LineRow[]> {
  return executor
    .select(lineColumns)
    .from(cartLines)
    .where(eq(cartLines.cartId, cartId))
    .orderBy(asc(cartLines.createdAt), asc(cartLines.id));
}

/** One line of this cart, or undefined (another customer's line is not found either). */
export async function lineOf(
  executor: Executor,
  cartId: string,
  lineId: string,
): Promise<LineRow | undefined> {
  const [line] = await executor
    .select(lineColumns)
    .from(cartLines)
    .where(and(eq(cartLines.id, lineId), eq(cartLines.cartId, cartId)));
  return line;
}

/** This cart's line of a variant, if it has one. */
export async function lineForVariant(
  executor: Executor,
  cartId: string,
  variantId: string,
): Promise<LineRow | undefined> {
  const [line] = await executor
    .select(lineColumns)
    .from(cartLines)
    .where(and(eq(cartLines.cartId, cartId), eq(cartLines.variantId, variantId)));
  return line;
}
