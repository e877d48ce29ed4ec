import { eq } from 'drizzle-orm';
import { transaction } from '../../platform/db/transaction.js';
import type { Deps } from '../../platform/deps.js';
import { fieldError } from '../../platform/errors/http-errors.js';
import { loadCoupon, UNKNOWN_CODE } from '../promotions/index.js';
import { pricedCart, type CartView } from './cart-view.js';
import { linesOf, lockOrCreateCart } from './carts.js';
import { carts } from './tables.js';

/**
 * `POST /api/cart/coupon/`: the coupon replaces any the cart had, if it applies to this cart now for
 * this customer (the rules checkout uses); else a 400 on `code` with the reason and the cart as it
 * was. It is a quote, not a hold: checkout re-checks it and takes the use.
 */
export async function applyCoupon(deps: Deps, userId: number, code: string): Promise<CartView> {
  return transaction(deps.db, async (tx) => {
    const cart = await lockOrCreateCart(tx, userId, deps.clock());
    const coupon = await loadCoupon(tx, { code }, userId);
    if (!coupon) throw fieldError('code', UNKNOWN_CODE);
    const withCoupon = { ...cart, couponId: coupon.coupon.id };
    const { view, couponRefusal } = await pricedCart(
      deps,
      tx,
      withCoupon,
      await linesOf(tx, cart.id),
      coupon,
    );
    if (couponRefusal) throw fieldError('code', couponRefusal);
    await tx.update(carts).set({ couponId: coupon.coupon.id }).where(eq(carts.id, cart.id));
    return view;
  });
}

/** `DELETE /api/cart/coupon/`: the cart without its coupon (a cart without one stays as it is). */
export async function removeCoupon(deps: Deps, userId: number): Promise<CartView> {
  return transaction(deps.db, async (tx) => {
    const cart = await lockOrCreateCart(tx, userId, deps.clock());
    if (cart.couponId !== null) await tx.update(carts).set({ couponId: null }).where(eq(carts.id, cart.id));
    return pricedCart(deps, tx, { ...cart, couponId: null }, await linesOf(tx, cart.id), null).then(
      (p) => p.view,
    );
  });
}
