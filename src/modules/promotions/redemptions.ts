import { sql } from 'drizzle-orm';
import { queryRows } from '../../platform/db/client.js';
import type { Tx } from '../../platform/db/transaction.js';
import type { Deps } from '../../platform/deps.js';
import type { Cents } from '../../platform/money.js';
import type { Discount } from '../pricing/index.js';
import { couponRefusal, discountOf, UNKNOWN_CODE } from './eligibility.js';
import { byKey, usesHeldBy, type CouponKey } from './lookup.js';
import { coupons } from './tables.js';

export interface Redeem {
  coupon: CouponKey;
  userId: number;
  /** The order being placed: its row is written later in the same transaction. */
  orderId: string;
  /** The order's subtotal, for `min_subtotal`. */
  subtotal: Cents;
}

export type RedeemOutcome =
  { ok: true; code: string; discount: Discount } | { ok: false; code: string | null; reason: string };

/**
 * Takes one use of a coupon for an order, in checkout's transaction. The coupon's row is locked
 * first (`FOR NO KEY UPDATE`), so every checkout with this coupon, on any process, runs this one at a time
 * and judges it on the row and the uses the previous one committed: the per-customer count is read
 * after the lock, by a statement of its own. The use is then taken by a conditional update
 * (`times_used < max_uses`) that writes the redemption in the same statement, so `times_used` and
 * the held redemptions move together and the limit holds even if the rules above were wrong.
 * A refusal writes nothing; the caller refuses the whole order.
 */
export async function redeemCoupon(deps: Deps, tx: Tx, redeem: Redeem): Promise<RedeemOutcome> {
  const [coupon] = await tx.select().from(coupons).where(byKey(redeem.coupon)).for('no key update');
  if (!coupon)
    return { ok: false, code: 'code' in redeem.coupon ? redeem.coupon.code : null, reason: UNKNOWN_CODE };
  const usesByUser = coupon.maxUsesPerUser === null ? 0 : await usesHeldBy(tx, coupon.id, redeem.userId);
  const refusal = couponRefusal({ coupon, usesByUser }, deps.clock(), redeem.subtotal);
  if (refusal) return { ok: false, code: coupon.code, reason: refusal };
  const taken = await queryRows(
    tx,
    sql`WITH c AS (
          UPDATE coupons SET times_used = times_used + 1
          WHERE id = ${coupon.id} AND (max_uses IS NULL OR times_used < max_uses)
          RETURNING id
        )
        INSERT INTO coupon_redemptions (coupon_id, order_id, user_id)
        SELECT c.id, ${redeem.orderId}, ${redeem.userId} FROM c
        RETURNING id`,
  );
  if (taken.length === 0) return { ok: false, code: coupon.code, reason: 'This coupon has been used up.' };
  return { ok: true, code: coupon.code, discount: discountOf(coupon) };
}

/**
 * Gives an order's coupon use back (the order was cancelled or expired), in the caller's
 * transaction: the redemption moves from `held` to `released` and `times_used` goes down in the same
 * statement, once however often it is called. True when a use was given back.
 */
export async function releaseCoupon(tx: Tx, orderId: string): Promise<boolean> {
  const released = await queryRows(
    tx,
    sql`WITH r AS (
          UPDATE coupon_redemptions SET state = 'released', released_at = now()
          WHERE order_id = ${orderId} AND state = 'held'
          RETURNING coupon_id
        )
        UPDATE coupons SET times_used = times_used - 1
        FROM r WHERE coupons.id = r.coupon_id
        RETURNING coupons.id`,
  );
  return released.length > 0;
}
