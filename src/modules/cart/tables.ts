import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { timestamptz } from '../../platform/db/columns.js';

/**
 * One open cart per customer, made on first use. `updated_at` moves with every change of its lines
 * (abandoned-cart reminders read it). The foreign keys to users and variants are in the migration:
 * a module names no other module's tables in code.
 */
export const carts = pgTable(
  'carts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: integer('user_id').notNull(),
    // The coupon applied to the cart (promotions' coupons; cleared if the coupon is deleted).
    couponId: integer('coupon_id'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
    /** The change (`updated_at`) last reminded of; null: never. A later `updated_at` is due again. */
    remindedAt: timestamptz('reminded_at'),
  },
  (t) => [
    uniqueIndex('carts_user_key').on(t.userId),
    // The reminder job's scan: carts untouched since a cutoff.
    index('carts_updated_idx').on(t.updatedAt),
  ],
);

export const MAX_LINE_QUANTITY = 1000;

export const cartLines = pgTable(
  'cart_lines',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    cartId: uuid('cart_id')
      .notNull()
      .references(() => carts.id, { onDelete: 'cascade' }),
    variantId: uuid('variant_id').notNull(),
    quantity: integer('quantity').notNull(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [
    // One line per variant: adding it again adds to that line.
    uniqueIndex('cart_lines_cart_variant_key').on(t.cartId, t.variantId),
    index('cart_lines_variant_idx').on(t.variantId),
    check(
      'cart_lines_quantity_range',
      sql`${t.quantity} BETWEEN 1 AND ${sql.raw(String(MAX_LINE_QUANTITY))}`,
    ),
  ],
);

export type Cart = typeof carts.$inferSelect;
export type CartLine = typeof cartLines.$inferSelect;
