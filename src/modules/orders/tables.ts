import { sql } from 'drizzle-orm';
import {
  bigserial,
  check,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  uuid,
} from 'drizzle-orm/pg-core';
import { ORDER_STATUSES } from './workflow.js';
import { money, timestamptz } from '../../platform/db/columns.js';

const statusList = sql.raw(ORDER_STATUSES.map((s) => `'${s}'`).join(', '));

/** The foreign keys to users and variants are in the migration: a module names no other module's tables. */
export const orders = pgTable(
  'orders',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orderNumber: text('order_number').notNull().unique(),
    userId: integer('user_id').notNull(),
    status: text('status', { enum: ORDER_STATUSES }).notNull().default('pending'),
    subtotal: money('subtotal').notNull(),
    discountAmount: money('discount_amount').notNull(),
    taxAmount: money('tax_amount').notNull(),
    shippingAmount: money('shipping_amount').notNull(),
    totalAmount: money('total_amount').notNull(),
    currency: text('currency').notNull().default('USD'),
    couponCode: text('coupon_code'),
    billingFirstName: text('billing_first_name').notNull(),
    billingLastName: text('billing_last_name').notNull(),
    billingEmail: text('billing_email').notNull(),
    billingPhone: text('billing_phone').notNull().default(''),
    billingAddress: jsonb('billing_address').$type<Record<string, unknown>>().notNull(),
    shippingFirstName: text('shipping_first_name').notNull(),
    shippingLastName: text('shipping_last_name').notNull(),
    shippingAddress: jsonb('shipping_address').$type<Record<string, unknown>>(),
    notes: text('notes').notNull().default(''),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('orders_user_created_idx').on(t.userId, t.createdAt, t.id),
    index('orders_created_idx').on(t.createdAt, t.id),
    index('orders_pending_created_idx')
      .on(t.createdAt)
      .where(sql`status = 'pending'`),
    check('orders_status_known', sql`${t.status} IN (${statusList})`),
    check(
      'orders_amounts_nonnegative',
      sql`${t.subtotal} >= 0 AND ${t.discountAmount} >= 0 AND ${t.taxAmount} >= 0 AND ${t.shippingAmount} >= 0 AND ${t.totalAmount} >= 0`,
    ),
  ],
);

/** What was bought, as it was when bought: name, SKU and price are snapshots. */
export const orderLines = pgTable(
  'order_lines',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    variantId: uuid('variant_id').notNull(),
    productId: uuid('product_id').notNull(),
    name: text('name').notNull(),
    sku: text('sku').notNull(),
    quantity: integer('quantity').notNull(),
    unitPrice: numeric('unit_price', { precision: 10, scale: 2 }).notNull(),
    totalPrice: money('total_price').notNull(),
  },
  (t) => [
    index('order_lines_order_idx').on(t.orderId),
    index('order_lines_variant_idx').on(t.variantId),
    check('order_lines_quantity_positive', sql`${t.quantity} > 0`),
  ],
);

/** One row per status change, the first being the order's creation (`from_status` null). Its id is the SSE event id. */
export const orderHistory = pgTable(
  'order_history',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    fromStatus: text('from_status', { enum: ORDER_STATUSES }),
    toStatus: text('to_status', { enum: ORDER_STATUSES }).notNull(),
    at: timestamptz('at').notNull().defaultNow(),
    /** The user who made the move; null for the system (payment timeout, a webhook). */
    actorId: integer('actor_id'),
    reason: text('reason').notNull().default(''),
    requestId: text('request_id'),
    idempotencyKey: text('idempotency_key'),
  },
  (t) => [index('order_history_order_idx').on(t.orderId, t.id)],
);

/**
 * The e-mails an order has had, one row per kind (`confirmation`, `shipped`, `cancelled`,
 * `refunded`): the job claims its row in the transaction that sends, so a job run twice mails once.
 */
export const orderEmails = pgTable(
  'order_emails',
  {
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    sentAt: timestamptz('sent_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orderId, t.kind] })],
);

export type Order = typeof orders.$inferSelect;
export type OrderLine = typeof orderLines.$inferSelect;
export type OrderHistoryRow = typeof orderHistory.$inferSelect;
