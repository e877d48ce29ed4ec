import { and, eq, isNull } from 'drizzle-orm';
import type { Deps } from '../../platform/deps.js';
import { transaction, type Tx } from '../../platform/db/transaction.js';
import { badRequest } from '../../platform/errors/http-errors.js';
import { passwordResetEmail } from './emails.js';
import { checkPassword, hashPassword, passwordProblems } from './passwords.js';
import { passwordResetTokens, users, type User } from './tables.js';
import { revokeAllSessions } from './sessions.js';
import { randomToken, tokenHash } from './tokens.js';
import { findUserByEmail, findUserById, normalizeEmail } from './users.js';

export const RESET_TTL_MS = 3600_000;
export const SEND_PASSWORD_RESET_EMAIL = 'send_password_reset_email';

const passwordContext = (user: User) => ({
  username: user.username,
  email: user.email,
  first_name: user.firstName,
  last_name: user.lastName,
});

const invalidToken = () => badRequest({ token: ['Invalid or expired token.'] });

/** Schedules a reset e-mail for an active account; says nothing about whether there is one. */
export async function requestPasswordReset(deps: Deps, email: string): Promise<void> {
  const user = await findUserByEmail(deps.db, normalizeEmail(email));
  if (!user?.isActive) return;
  await transaction(deps.db, (tx) => deps.jobs.enqueue(tx, SEND_PASSWORD_RESET_EMAIL, { user_id: user.id }));
}

/**
 * The job: a fresh single-use token, valid 1 hour, e-mailed on its own and inside the link.
 * Only its hash is stored, so the token exists in the e-mail alone.
 */
export async function sendPasswordResetEmail(deps: Deps, userId: number): Promise<void> {
  const user = await findUserById(deps.db, userId);
  if (!user?.isActive) return;
  const token = randomToken();
  await deps.db.insert(passwordResetTokens).values({
    userId,
    tokenHash: tokenHash(token),
    expiresAt: new Date(deps.clock().getTime() + RESET_TTL_MS),
  });
  const link = deps.config.passwordResetUrl.replaceAll('{token}', encodeURIComponent(token));
  await deps.mailer.send(passwordResetEmail(user, link, token, deps.config.shopName));
}

/** A new password ends every session and uses up every outstanding reset token of the user. */
async function setPassword(deps: Deps, tx: Tx, user: User, password: string): Promise<void> {
  const now = deps.clock();
  await tx
    .update(users)
    .set({ password: await hashPassword(password), updatedAt: now })
    .where(eq(users.id, user.id));
  await revokeAllSessions(tx, user.id, now);
  await tx
    .update(passwordResetTokens)
    .set({ usedAt: now })
    .where(and(eq(passwordResetTokens.userId, user.id), isNull(passwordResetTokens.usedAt)));
}

/** Uses the token up, sets the password and ends every session of the user. */
export async function confirmPasswordReset(deps: Deps, token: string, newPassword: string): Promise<void> {
  await transaction(deps.db, async (tx) => {
    const [row] = await tx
      .select()
      .from(passwordResetTokens)
      .where(eq(passwordResetTokens.tokenHash, tokenHash(token)))
      .for('update');
    if (!row || row.usedAt || row.expiresAt.getTime() <= deps.clock().getTime()) throw invalidToken();
    const user = await findUserById(tx, row.userId);
    if (!user?.isActive) throw invalidToken();
    const problems = passwordProblems(newPassword, passwordContext(user));
    if (problems.length > 0) throw badRequest({ new_password: problems });
    await setPassword(deps, tx, user, newPassword);
  });
}

/** A signed-in user changes their password; every session (refresh token) ends. */
export async function changePassword(
  deps: Deps,
  userId: number,
  currentPassword: string,
  newPassword: string,
): Promise<void> {
  const user = await findUserById(deps.db, userId);
  if (!user || !(await checkPassword(user.password, currentPassword))) {
    throw badRequest({ current_password: ['Current password is incorrect.'] });
  }
  const problems = passwordProblems(newPassword, passwordContext(user));
  if (problems.length > 0) throw badRequest({ new_password: problems });
  await transaction(deps.db, (tx) => setPassword(deps, tx, user, newPassword));
}
