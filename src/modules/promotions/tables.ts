import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  check,
  index,
  integer,
  numeric,
  pgTable,
  serial,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { timestamptz } from '../../platform/db/columns.js';

export const COUPON_KINDS = ['percent', 'fixed'] as const;
export type CouponKind = (typeof COUPON_KINDS)[number];

/**
 * Staff-made discount codes (SPEC §6). `times_used` is the number of `held` redemptions, kept in
 * step by the statements that hold and release them (each writes both), and bounded by the
 * conditional `UPDATE … WHERE times_used < max_uses` that takes a use.
 */
export const coupons = pgTable(
  'coupons',
  {
    id: serial('id').primaryKey(),
    code: text('code').notNull(),
    kind: text('kind', { enum: COUPON_KINDS }).notNull(),
    value: numeric('value', { precision: 10, scale: 2 }).notNull(),
    minSubtotal: numeric('min_subtotal', { precision: 12, scale: 2 }).notNull().default('0.00'),
    startsAt: timestamptz('starts_at'),
    endsAt: timestamptz('ends_at'),
    maxUses: integer('max_uses'),
    maxUsesPerUser: integer('max_uses_per_user'),
    isActive: boolean('is_active').notNull().default(true),
    timesUsed: integer('times_used').notNull().default(0),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    // Codes are matched case-insensitively, so they are unique that way too.
    uniqueIndex('coupons_code_key').on(sql`lower(${t.code})`),
    check('coupons_kind_known', sql`${t.kind} IN ('percent', 'fixed')`),
    check('coupons_value_range', sql`${t.value} > 0 AND (${t.kind} <> 'percent' OR ${t.value} <= 100)`),
    check('coupons_min_subtotal_nonnegative', sql`${t.minSubtotal} >= 0`),
    check(
      'coupons_window_ordered',
      sql`${t.endsAt} IS NULL OR ${t.startsAt} IS NULL OR ${t.endsAt} > ${t.startsAt}`,
    ),
    check(
      'coupons_limits_positive',
      sql`(${t.maxUses} IS NULL OR ${t.maxUses} > 0) AND (${t.maxUsesPerUser} IS NULL OR ${t.maxUsesPerUser} > 0)`,
    ),
    check('coupons_times_used_nonnegative', sql`${t.timesUsed} >= 0`),
  ],
);

export const REDEMPTION_STATES = ['held', 'released'] as const;

/**
 * One use of a coupon by one order: `held` while the order stands, `released` when it is cancelled
 * or expires (the use goes back). One per order. The foreign keys to orders and users are in the
 * migration: a module names no other module's tables in code.
 */
export const couponRedemptions = pgTable(
  'coupon_redemptions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    couponId: integer('coupon_id')
      .notNull()
      .references(() => coupons.id),
    orderId: uuid('order_id').notNull(),
    userId: integer('user_id').notNull(),
    state: text('state', { enum: REDEMPTION_STATES }).notNull().default('held'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    releasedAt: timestamptz('released_at'),
  },
  (t) => [
    uniqueIndex('coupon_redemptions_order_key').on(t.orderId),
    // The per-customer limit counts a customer's held uses of a coupon.
    index('coupon_redemptions_held_idx')
      .on(t.couponId, t.userId)
      .where(sql`state = 'held'`),
    check('coupon_redemptions_state_known', sql`${t.state} IN ('held', 'released')`),
  ],
);

export type Coupon = typeof coupons.$inferSelect;
