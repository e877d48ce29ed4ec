import { eq } from 'drizzle-orm';
import { transaction } from '../../platform/db/transaction.js';
import type { Deps } from '../../platform/deps.js';
import { fieldError, notFound } from '../../platform/errors/http-errors.js';
import { UUID_PATTERN } from '../../platform/ids.js';
import { variantsForSale } from '../catalog/index.js';
import { cartView, type CartView } from './cart-view.js';
import { lineOf, linesOf, lockCart } from './carts.js';
import { cartLines } from './tables.js';

/**
 * `PATCH /api/cart/items/<id>/`: sets a line's quantity, checked against the stock under the cart's
 * lock. A line of another cart, or a malformed id, is a 404. A line whose variant is no longer for
 * sale cannot be changed (400 on `variant`), only removed.
 */
export async function changeItem(
  deps: Deps,
  userId: number,
  lineId: string,
  quantity: number,
): Promise<CartView> {
  if (!UUID_PATTERN.test(lineId)) throw notFound();
  return transaction(deps.db, async (tx) => {
    const cart = await lockCart(tx, userId, deps.clock());
    const line = cart && (await lineOf(tx, cart.id, lineId.toLowerCase()));
    if (!cart || !line) throw notFound();
    const variant = (await variantsForSale(tx, [line.variantId])).get(line.variantId);
    if (!variant?.available) throw fieldError('variant', 'This variant is no longer available.');
    if (quantity > variant.stock) throw fieldError('quantity', `Only ${variant.stock} left in stock.`);
    await tx.update(cartLines).set({ quantity }).where(eq(cartLines.id, line.id));
    return cartView(deps, tx, cart, await linesOf(tx, cart.id));
  });
}
