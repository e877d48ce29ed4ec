import type { Static } from 'typebox';
import type { Executor } from '../../platform/db/client.js';
import type { Deps } from '../../platform/deps.js';
import { toCents } from '../../platform/money.js';
import { variantsForSale } from '../catalog/index.js';
import { lineTotal, priceLines } from '../pricing/index.js';
import {
  couponRefusal,
  couponSummary,
  discountOf,
  loadCoupon,
  type CouponState,
} from '../promotions/index.js';
import type { CartOut } from './schemas.js';

export type CartView = Static<typeof CartOut>;

export interface CartHead {
  id: string;
  userId: number;
  couponId: number | null;
  updatedAt: Date;
}

export interface LineRow {
  id: string;
  variantId: string;
  quantity: number;
}

/**
 * The whole cart as every cart endpoint answers it, priced now: one query for the lines' variants
 * (`variantsForSale`), whatever the number of lines, one for the coupon if it has one, and SPEC
 * §5's one pricing function. The two run one after the other: at once they would take two pooled
 * connections per request, and under load requests then queue for connections (the bench's C1
 * halved). A line
 * whose variant is no longer for sale stays, flagged `available: false`, and counts in no total.
 * `item_count` is the sum of the quantities of the available lines: what checkout would sell.
 * A line whose variant vanished between the two reads (a hard delete, which cascades to the line)
 * is left out.
 */
export async function cartView(
  deps: Deps,
  executor: Executor,
  cart: CartHead,
  lines: LineRow[],
): Promise<CartView> {
  const { couponId } = cart;
  const coupon = couponId === null ? null : () => loadCoupon(executor, { id: couponId }, cart.userId);
  return (await pricedCart(deps, executor, cart, lines, coupon)).view;
}

/**
 * The cart priced with a coupon (the one it holds, or one being applied), and why that coupon does
 * not apply to it now, if it does not. A coupon that stopped applying (expired, used up, the
 * subtotal fell under its minimum) stays on the cart, shown, with no discount; checkout then
 * refuses the cart with the reason rather than charge the full price unasked.
 */
export async function pricedCart(
  deps: Deps,
  executor: Executor,
  cart: CartHead,
  lines: LineRow[],
  withCoupon: CouponState | null | (() => Promise<CouponState | null>),
): Promise<{ view: CartView; couponRefusal: string | null }> {
  const forSale = await variantsForSale(executor, [...new Set(lines.map((l) => l.variantId))]);
  const coupon = typeof withCoupon === 'function' ? await withCoupon() : withCoupon;
  const items: CartView['items'] = [];
  const priced: Parameters<typeof priceLines>[0] = [];
  let itemCount = 0;
  for (const line of lines) {
    const variant = forSale.get(line.variantId);
    if (!variant) continue;
    priced.push({
      unitPrice: variant.price,
      quantity: line.quantity,
      isDigital: variant.isDigital,
      available: variant.available,
    });
    if (variant.available) itemCount += line.quantity;
    items.push({
      id: line.id,
      variant: {
        id: variant.id,
        sku: variant.sku,
        name: variant.name,
        price: variant.price,
        product: { id: variant.productId, name: variant.productName, slug: variant.productSlug },
      },
      quantity: line.quantity,
      unit_price: variant.price,
      line_total: lineTotal({ unitPrice: variant.price, quantity: line.quantity }),
      available: variant.available,
    });
  }
  const rules = deps.config.pricing;
  const full = priceLines(priced, null, rules);
  const refusal = coupon && couponRefusal(coupon, deps.clock(), toCents(full.subtotal));
  const totals = coupon && !refusal ? priceLines(priced, discountOf(coupon.coupon), rules) : full;
  const view = {
    id: cart.id,
    items,
    coupon: coupon && couponSummary(coupon.coupon),
    ...totals,
    item_count: itemCount,
    updated_at: cart.updatedAt.toISOString(),
  };
  return { view, couponRefusal: refusal };
}
