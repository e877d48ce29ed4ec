import { numeric, timestamp } from 'drizzle-orm/pg-core';

/** Every timestamp column: `timestamptz`, read as a JavaScript `Date`. */
export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** An amount of money: two places, up to ten digits before the point (orders, payments). */
export const money = (name: string) => numeric(name, { precision: 12, scale: 2 });
