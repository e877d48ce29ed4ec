import { and, eq } from 'drizzle-orm';
import { transaction } from '../../platform/db/transaction.js';
import type { Deps } from '../../platform/deps.js';
import { notFound } from '../../platform/errors/http-errors.js';
import { UUID_PATTERN } from '../../platform/ids.js';
import { cartView, type CartView } from './cart-view.js';
import { linesOf, lockCart } from './carts.js';
import { cartLines } from './tables.js';

/** `DELETE /api/cart/items/<id>/`: removes a line of the caller's cart (any other id is a 404). */
export async function removeItem(deps: Deps, userId: number, lineId: string): Promise<CartView> {
  if (!UUID_PATTERN.test(lineId)) throw notFound();
  return transaction(deps.db, async (tx) => {
    const cart = await lockCart(tx, userId, deps.clock());
    if (!cart) throw notFound();
    const [removed] = await tx
      .delete(cartLines)
      .where(and(eq(cartLines.id, lineId.toLowerCase()), eq(cartLines.cartId, cart.id)))
      .returning({ id: cartLines.id });
    if (!removed) throw notFound();
    return cartView(deps, tx, cart, await linesOf(tx, cart.id));
  });
}
