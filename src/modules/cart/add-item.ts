import { sql } from 'drizzle-orm';
import type { Static } from 'typebox';
import { transaction } from '../../platform/db/transaction.js';
import type { Deps } from '../../platform/deps.js';
import { fieldError } from '../../platform/errors/http-errors.js';
import { variantsForSale } from '../catalog/index.js';
import { cartView, type CartView } from './cart-view.js';
import { lineForVariant, linesOf, lockOrCreateCart } from './carts.js';
import type { AddItemBody } from './schemas.js';
import { cartLines, MAX_LINE_QUANTITY } from './tables.js';

/**
 * `POST /api/cart/items/`: adds to the variant's line (made if new). The cart row is locked first,
 * so two adds of one variant, from any processes, run one after the other and sum; the line's new
 * total is checked against 1000 and against the stock it reads after taking the lock.
 */
export async function addItem(
  deps: Deps,
  userId: number,
  input: Static<typeof AddItemBody>,
): Promise<CartView> {
  const variantId = input.variant.toLowerCase();
  return transaction(deps.db, async (tx) => {
    const cart = await lockOrCreateCart(tx, userId, deps.clock());
    const variant = (await variantsForSale(tx, [variantId])).get(variantId);
    // Not for sale reads as not there: the public cannot tell a hidden variant from a missing one.
    if (!variant?.available)
      throw fieldError('variant', `Invalid pk "${variantId}" - object does not exist.`);
    const inCart = (await lineForVariant(tx, cart.id, variantId))?.quantity ?? 0;
    const total = inCart + input.quantity;
    if (total > MAX_LINE_QUANTITY)
      throw fieldError(
        'quantity',
        `A cart line holds at most ${MAX_LINE_QUANTITY}; this cart already has ${inCart} of this variant.`,
      );
    if (total > variant.stock) throw fieldError('quantity', `Only ${variant.stock} left in stock.`);
    await tx
      .insert(cartLines)
      .values({ cartId: cart.id, variantId, quantity: input.quantity })
      .onConflictDoUpdate({
        target: [cartLines.cartId, cartLines.variantId],
        set: { quantity: sql`${cartLines.quantity} + excluded.quantity` },
      });
    return cartView(deps, tx, cart, await linesOf(tx, cart.id));
  });
}
