import { and, eq, inArray } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { users } from './tables.js';

/** Whom to write to, and how to greet them. */
export interface Contact {
  id: number;
  email: string;
  name: string;
}

const contactColumns = {
  id: users.id,
  email: users.email,
  firstName: users.firstName,
  username: users.username,
};
const contact = (row: { id: number; email: string; firstName: string; username: string }): Contact => ({
  id: row.id,
  email: row.email,
  name: row.firstName || row.username,
});

/** The active users among `ids` (inactive and unknown ones are left out), for notifications. */
export async function activeContacts(executor: Executor, ids: number[]): Promise<Map<number, Contact>> {
  if (ids.length === 0) return new Map();
  const rows = await executor
    .select(contactColumns)
    .from(users)
    .where(and(inArray(users.id, ids), eq(users.isActive, true)));
  return new Map(rows.map((row) => [row.id, contact(row)]));
}

/** Every active staff user, by id, for the shop's own alerts. */
export async function activeStaffContacts(executor: Executor): Promise<Contact[]> {
  const rows = await executor
    .select(contactColumns)
    .from(users)
    .where(and(eq(users.isStaff, true), eq(users.isActive, true)))
    .orderBy(users.id);
  return rows.map(contact);
}
