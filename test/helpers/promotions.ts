import { eq } from 'drizzle-orm';
import type { Deps } from '../../src/deps.js';
import { couponRedemptions, coupons, type Coupon } from '../../src/modules/promotions/tables.js';

let counter = 0;

/** A coupon written straight to the table: `percent` 10 with no limits unless told otherwise. */
export async function makeCoupon(
  deps: Deps,
  fields: Partial<Omit<typeof coupons.$inferInsert, 'id'>> = {},
): Promise<Coupon> {
  counter++;
  const [row] = await deps.db
    .insert(coupons)
    .values({
      code: `TEST${counter}${Math.random().toString(36).slice(2, 8).toUpperCase()}`,
      kind: 'percent',
      value: '10.00',
      ...fields,
    })
    .returning();
  return row!;
}

/** The coupon as stored now, with its redemptions (held and released). */
export async function couponState(deps: Deps, id: number) {
  const [coupon] = await deps.db.select().from(coupons).where(eq(coupons.id, id));
  const redemptions = await deps.db
    .select()
    .from(couponRedemptions)
    .where(eq(couponRedemptions.couponId, id));
  return {
    coupon: coupon!,
    redemptions,
    held: redemptions.filter((r) => r.state === 'held'),
  };
}
