import { toCents, type Cents } from '../../platform/money.js';
import type { Discount } from '../pricing/index.js';
import type { Coupon } from './tables.js';

/** A coupon with what the rules need to know about one customer: how many uses they hold. */
export interface CouponState {
  coupon: Coupon;
  usesByUser: number;
}

/** What a cart shows of its coupon (SPEC §5). */
export interface CouponSummary {
  code: string;
  kind: Coupon['kind'];
  value: string;
}

export const couponSummary = ({ code, kind, value }: Coupon): CouponSummary => ({ code, kind, value });

export const discountOf = ({ kind, value }: Coupon): Discount => ({ kind, value });

/** The shopper's words for a code that matches no coupon. */
export const UNKNOWN_CODE = 'This coupon code is not valid.';

const day = (at: Date) => at.toISOString().replace('.000Z', 'Z');

/**
 * Why this coupon cannot apply for this customer now, to this subtotal, in words a shopper
 * understands; null when it applies. The one rule book: the cart uses it to apply a code and to
 * show its discount, checkout to re-check under the coupon's lock. `starts_at` is inclusive and
 * `ends_at` exclusive.
 */
export function couponRefusal(
  { coupon, usesByUser }: CouponState,
  now: Date,
  subtotal: Cents,
): string | null {
  if (!coupon.isActive) return 'This coupon is no longer active.';
  if (coupon.startsAt && now < coupon.startsAt)
    return `This coupon is not valid until ${day(coupon.startsAt)}.`;
  if (coupon.endsAt && now >= coupon.endsAt) return `This coupon expired at ${day(coupon.endsAt)}.`;
  if (coupon.maxUses !== null && coupon.timesUsed >= coupon.maxUses) return 'This coupon has been used up.';
  if (coupon.maxUsesPerUser !== null && usesByUser >= coupon.maxUsesPerUser) {
    return coupon.maxUsesPerUser === 1
      ? 'You have already used this coupon.'
      : `You have already used this coupon ${coupon.maxUsesPerUser} times, its limit per customer.`;
  }
  if (subtotal < toCents(coupon.minSubtotal)) {
    return `This coupon needs a subtotal of at least ${coupon.minSubtotal}.`;
  }
  return null;
}
