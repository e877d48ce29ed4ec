import { pgTable, text } from 'drizzle-orm/pg-core';
import { timestamptz } from '../../platform/db/columns.js';

/**
 * One row per notification sent, keyed by what makes it once (`abandoned-cart:<cart>:<change>`,
 * `low-stock:<alert>:<user>`): claimed in the transaction that sends, so a job run twice sends once,
 * and a send that fails rolls its claim back for the retry.
 */
export const notificationDeliveries = pgTable('notification_deliveries', {
  key: text('key').primaryKey(),
  sentAt: timestamptz('sent_at').notNull().defaultNow(),
});
