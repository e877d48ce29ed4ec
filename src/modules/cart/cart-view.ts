import type { Static } from 'typebox';
import type { Executor } from '../../platform/db/client.js';
import { variantsForSale } from '../catalog/index.js';
import { lineTotal, priceLines, type PricingRules } from '../pricing/index.js';
import type { CartOut } from './schemas.js';

export type CartView = Static<typeof CartOut>;

export interface CartHead {
  id: string;
  updatedAt: Date;
}

export interface LineRow {
  id: string;
  variantId: string;
  quantity: number;
}

/**
 * The whole cart as every cart endpoint answers it, priced now: one query for the lines' variants
 * (`variantsForSale`), whatever the number of lines, and SPEC §5's one pricing function. A line
 * whose variant is no longer for sale stays, flagged `available: false`, and counts in no total.
 * `item_count` is the sum of the quantities of the available lines: what checkout would sell.
 * A line whose variant vanished between the two reads (a hard delete, which cascades to the line)
 * is left out.
 */
export async function cartView(
  executor: Executor,
  rules: PricingRules,
  cart: CartHead,
  lines: LineRow[],
): Promise<CartView> {
  const forSale = await variantsForSale(executor, [...new Set(lines.map((l) => l.variantId))]);
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
  // Coupons come with promotions: no discount yet.
  const totals = priceLines(priced, null, rules);
  return {
    id: cart.id,
    items,
    coupon: null,
    ...totals,
    item_count: itemCount,
    updated_at: cart.updatedAt.toISOString(),
  };
}
