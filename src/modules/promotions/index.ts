import type { AppModule } from '../types.js';
import { couponRoutes } from './routes.js';

/** Coupons: staff-managed codes, quotes for carts, and uses taken and given back inside orders. */
export const promotions: AppModule = {
  name: 'promotions',
  routes: couponRoutes,
};

// For the cart: show and apply a coupon (unlocked reads, the same rules as checkout).
export {
  couponRefusal,
  couponSummary,
  discountOf,
  UNKNOWN_CODE,
  type CouponState,
  type CouponSummary,
} from './eligibility.js';
export { loadCoupon, type CouponKey } from './lookup.js';
// For orders, inside the checkout's or the cancel's transaction.
export { redeemCoupon, releaseCoupon, type Redeem, type RedeemOutcome } from './redemptions.js';
