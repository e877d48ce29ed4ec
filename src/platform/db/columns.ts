import { timestamp } from 'drizzle-orm/pg-core';

/** Every timestamp column: `timestamptz`, read as a JavaScript `Date`. */
export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
