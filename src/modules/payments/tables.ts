import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { money, timestamptz } from '../../platform/db/columns.js';

export const PAYMENT_STATUSES = ['pending', 'succeeded', 'failed', 'refunded'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** What the customer must do next to pay (for the sandbox: post the outcome to `url`). */
export interface NextAction {
  type: string;
  url: string;
}

/**
 * One attempt to pay an order through a gateway (SPEC §6). `refunded_amount` only grows, by the
 * conditional update of a refund, and never passes `amount` (the CHECK repeats it). The foreign
 * keys to orders and users are in the migration: a module names no other module's tables.
 */
export const payments = pgTable(
  'payments',
  {
    id: serial('id').primaryKey(),
    orderId: uuid('order_id').notNull(),
    userId: integer('user_id').notNull(),
    gateway: text('gateway').notNull(),
    amount: money('amount').notNull(),
    currency: text('currency').notNull().default('USD'),
    status: text('status', { enum: PAYMENT_STATUSES }).notNull().default('pending'),
    refundedAmount: money('refunded_amount').notNull().default('0.00'),
    reference: text('reference').notNull(),
    nextAction: jsonb('next_action').$type<NextAction>().notNull(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('payments_gateway_reference_key').on(t.gateway, t.reference),
    // One pending payment per order: `pay` while one is pending answers that one.
    uniqueIndex('payments_order_pending_key')
      .on(t.orderId)
      .where(sql`status = 'pending'`),
    index('payments_order_idx').on(t.orderId),
    index('payments_user_created_idx').on(t.userId, t.createdAt, t.id),
    index('payments_created_idx').on(t.createdAt, t.id),
    check('payments_status_known', sql`${t.status} IN ('pending', 'succeeded', 'failed', 'refunded')`),
    check('payments_amount_positive', sql`${t.amount} > 0`),
    check('payments_refunds_bounded', sql`${t.refundedAmount} >= 0 AND ${t.refundedAmount} <= ${t.amount}`),
  ],
);

/** Money given back on a payment, one row per refund the gateway accepted. */
export const refunds = pgTable(
  'refunds',
  {
    id: serial('id').primaryKey(),
    paymentId: integer('payment_id')
      .notNull()
      .references(() => payments.id, { onDelete: 'restrict' }),
    amount: money('amount').notNull(),
    reason: text('reason').notNull().default(''),
    reference: text('reference').notNull(),
    /** Who asked: a staff user, or null for the system (a cancel, a payment that came too late). */
    actorId: integer('actor_id'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('refunds_payment_idx').on(t.paymentId),
    uniqueIndex('refunds_reference_key').on(t.reference),
    check('refunds_amount_positive', sql`${t.amount} > 0`),
  ],
);

/**
 * Every webhook event received, keyed by the gateway's event id: the row is written first, in the
 * transaction of the event's effects, so a redelivery (however concurrent) finds it and does
 * nothing, and an event whose handling failed is not recorded and is handled when it comes again.
 */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    gateway: text('gateway').notNull(),
    eventId: text('event_id').notNull(),
    type: text('type').notNull(),
    payload: jsonb('payload').notNull(),
    /** What handling it did: `confirmed`, `failed`, `refunded_late`, `ignored: …`. */
    outcome: text('outcome').notNull().default(''),
    receivedAt: timestamptz('received_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.gateway, t.eventId] })],
);

export type Payment = typeof payments.$inferSelect;
