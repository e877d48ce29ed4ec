import { eq, or, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { users, type User } from './tables.js';

const lower = (value: string) => sql`lower(${value})`;

export async function findUserById(executor: Executor, id: number): Promise<User | null> {
  const rows = await executor.select().from(users).where(eq(users.id, id));
  return rows[0] ?? null;
}

export async function findUserByEmail(executor: Executor, email: string): Promise<User | null> {
  const rows = await executor
    .select()
    .from(users)
    .where(eq(sql`lower(${users.email})`, lower(email)));
  return rows[0] ?? null;
}

/**
 * Accounts a sign-in name may mean, case-insensitively: the one with that username first, then the
 * one with that address. Usernames may contain `@`, so one name can match two accounts.
 */
export async function findUsersByLogin(executor: Executor, login: string): Promise<User[]> {
  const rows = await executor
    .select()
    .from(users)
    .where(or(eq(sql`lower(${users.username})`, lower(login)), eq(sql`lower(${users.email})`, lower(login))))
    .limit(2);
  const byUsername = (u: User) => (u.username.toLowerCase() === login.toLowerCase() ? 0 : 1);
  return rows.sort((a, b) => byUsername(a) - byUsername(b));
}

/** Django's normalize_email: the domain part is case-insensitive, so it is lower-cased. */
export function normalizeEmail(email: string): string {
  const at = email.lastIndexOf('@');
  return at < 0
    ? email.trim()
    : `${email.slice(0, at).trim()}@${email
        .slice(at + 1)
        .trim()
        .toLowerCase()}`;
}

/** What a user sees of their own account. */
export function selfView(user: User) {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    first_name: user.firstName,
    last_name: user.lastName,
    phone: user.phone,
    is_verified: user.isVerified,
    is_active: user.isActive,
    is_staff: user.isStaff,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
  };
}

/** What staff see: everything but the password, including the delivery record of verification mail. */
export function staffView(user: User) {
  return {
    ...selfView(user),
    is_superuser: user.isSuperuser,
    verification_email_attempts: user.verificationEmailAttempts,
    verification_email_last_attempt: user.verificationEmailLastAttempt?.toISOString() ?? null,
    verification_email_last_success: user.verificationEmailLastSuccess?.toISOString() ?? null,
  };
}
