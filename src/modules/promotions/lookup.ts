import { and, count, eq, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import type { CouponState } from './eligibility.js';
import { couponRedemptions, coupons } from './tables.js';

export type CouponKey = { id: number } | { code: string };

export const byKey = (key: CouponKey): SQL =>
  'id' in key ? eq(coupons.id, key.id) : eq(sql`lower(${coupons.code})`, key.code.trim().toLowerCase());

/** The held uses of a coupon (a column, for a correlated subquery, or an id) by one customer. */
const heldBy = (coupon: typeof coupons.id | number, userId: number) =>
  and(
    eq(couponRedemptions.couponId, coupon),
    eq(couponRedemptions.userId, userId),
    eq(couponRedemptions.state, 'held'),
  );

/**
 * A coupon and the uses this customer holds, in one query, or null when no coupon has this
 * id or code. Unlocked: for showing and applying; checkout re-reads under the lock
 * (`redeemCoupon`).
 */
export async function loadCoupon(
  executor: Executor,
  key: CouponKey,
  userId: number,
): Promise<CouponState | null> {
  const uses = executor.select({ n: count() }).from(couponRedemptions).where(heldBy(coupons.id, userId));
  const [row] = await executor
    .select({ coupon: coupons, usesByUser: sql<number>`(${uses})::int` })
    .from(coupons)
    .where(byKey(key));
  return row ?? null;
}

/**
 * The uses this customer holds of a coupon, read by a statement of its own: run after the coupon's
 * row lock is taken, its fresh snapshot sees every use committed by the checkouts that held the
 * lock before (a subquery of the locking statement would see its pre-wait snapshot).
 */
export async function usesHeldBy(executor: Executor, couponId: number, userId: number): Promise<number> {
  const [row] = await executor.select({ n: count() }).from(couponRedemptions).where(heldBy(couponId, userId));
  return row!.n;
}
