import { asc, eq, sql } from 'drizzle-orm';
import type { Tx } from '../../platform/db/transaction.js';
import { cartLines, carts } from './tables.js';

export interface CartForCheckout {
  cartId: string;
  /** The coupon applied to the cart, for checkout to re-check and redeem. */
  couponId: number | null;
  lines: Array<{ lineId: string; variantId: string; quantity: number }>;
}

/**
 * For checkout, inside its transaction: locks the user's cart row (`FOR UPDATE`) and returns its
 * lines, or null when the user has no cart. Two checkouts of one cart take turns: the second waits
 * for the first to commit and then reads the lines that are left (none, once `emptyCart` ran).
 * The lines are read by a statement of their own after the lock: a join locked `FOR UPDATE OF`
 * the cart would re-check the cart row after the wait but return the lines of its old snapshot.
 * Cart writes take the same lock, so a line cannot change between this read and `emptyCart`.
 */
export async function lockCartForCheckout(tx: Tx, userId: number): Promise<CartForCheckout | null> {
  const [cart] = await tx
    .select({ id: carts.id, couponId: carts.couponId })
    .from(carts)
    .where(eq(carts.userId, userId))
    .for('update');
  if (!cart) return null;
  const lines = await tx
    .select({ lineId: cartLines.id, variantId: cartLines.variantId, quantity: cartLines.quantity })
    .from(cartLines)
    .where(eq(cartLines.cartId, cart.id))
    .orderBy(asc(cartLines.createdAt), asc(cartLines.id));
  return { cartId: cart.id, couponId: cart.couponId, lines };
}

/**
 * Empties a cart (checkout's last step, in its transaction), drops its coupon (used by the order)
 * and moves `updated_at`: to `at` when
 * given (the caller's `deps.clock()`, as the cart's own writes use), else to the database's `now()`.
 */
export async function emptyCart(tx: Tx, cartId: string, at?: Date): Promise<void> {
  await tx.delete(cartLines).where(eq(cartLines.cartId, cartId));
  await tx
    .update(carts)
    .set({ couponId: null, updatedAt: at ?? sql`now()` })
    .where(eq(carts.id, cartId));
}
