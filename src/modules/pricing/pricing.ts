import type { Config } from '../../config.js';
import { fromCents, percentOf, timesHalfUp, toCents, type Cents } from '../../platform/money.js';

/** A priced line: the price is the database's, never the client's. */
export interface PricedLine {
  unitPrice: string;
  quantity: number;
  isDigital: boolean;
  /** A line that became unavailable stays in the cart but counts in no total. */
  available: boolean;
}

/** What a coupon takes off (promotions supplies it). */
export type Discount = { kind: 'percent'; value: string } | { kind: 'fixed'; value: string };

export interface Totals {
  subtotal: string;
  discount_amount: string;
  tax_amount: string;
  shipping_amount: string;
  total_amount: string;
}

export type PricingRules = Config['pricing'];

/** `unit_price × quantity`, exact. */
export const lineTotal = (line: Pick<PricedLine, 'unitPrice' | 'quantity'>): string =>
  fromCents(toCents(line.unitPrice) * BigInt(line.quantity));

/**
 * SPEC §5's pricing, the one function the cart and checkout both use: the subtotal of the available
 * lines; the discount (percent of the subtotal, or a fixed value, never above the subtotal); tax on
 * the discounted amount; shipping free at or above the threshold (on the discounted amount) or when
 * every line is digital; exact cents, half-up.
 */
export function priceLines(lines: PricedLine[], discount: Discount | null, rules: PricingRules): Totals {
  const counted = lines.filter((l) => l.available);
  const subtotal = counted.reduce<Cents>((sum, l) => sum + toCents(l.unitPrice) * BigInt(l.quantity), 0n);
  const wanted =
    discount === null
      ? 0n
      : discount.kind === 'percent'
        ? percentOf(subtotal, discount.value)
        : toCents(discount.value);
  const discountAmount = wanted < subtotal ? wanted : subtotal;
  const discounted = subtotal - discountAmount;
  const tax = timesHalfUp(discounted, rules.taxRate);
  const shipsFree = counted.every((l) => l.isDigital) || discounted >= toCents(rules.freeShippingThreshold);
  const shipping = shipsFree ? 0n : toCents(rules.shippingFlatRate);
  return {
    subtotal: fromCents(subtotal),
    discount_amount: fromCents(discountAmount),
    tax_amount: fromCents(tax),
    shipping_amount: fromCents(shipping),
    total_amount: fromCents(discounted + tax + shipping),
  };
}
