import { randomUUID } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { Deps } from '../../platform/deps.js';
import type { Executor } from '../../platform/db/client.js';
import { transaction } from '../../platform/db/transaction.js';
import { HttpError, unauthorized } from '../../platform/errors/http-errors.js';
import { checkPassword } from './passwords.js';
import { refreshTokens, type User } from './tables.js';
import { TokenSigner, tokenHash } from './tokens.js';
import { findUserByEmail, findUserById, findUsersByLogin, normalizeEmail } from './users.js';

export interface TokenPair {
  access: string;
  refresh: string;
}

const noAccount = () => unauthorized('No active account found with the given credentials');
const refreshInvalid = () => unauthorized('Token is invalid or expired', { code: 'token_not_valid' });

async function issuePair(deps: Deps, executor: Executor, user: User, familyId: string): Promise<TokenPair> {
  const signer = new TokenSigner(deps.config.secretKey);
  const now = deps.clock();
  const access = await signer.sign('access', { userId: user.id }, now, deps.config.jwtAccessTtlSeconds);
  const refresh = await signer.sign('refresh', { userId: user.id }, now, deps.config.jwtRefreshTtlSeconds);
  await executor.insert(refreshTokens).values({
    id: refresh.jti,
    userId: user.id,
    familyId,
    tokenHash: tokenHash(refresh.token),
    expiresAt: refresh.expiresAt,
  });
  return { access: access.token, refresh: refresh.token };
}

/**
 * Sign-in with username or e-mail. The password is checked before anything else is said, so
 * the "not verified" 403 tells nothing to someone who does not know the password.
 */
export async function obtainTokens(
  deps: Deps,
  who: { login: string } | { email: string },
  password: string,
): Promise<TokenPair> {
  // `username` takes a username or an address; `email` only an address. Where a name matches two
  // accounts (someone took another's address as username), the password decides.
  const candidates =
    'login' in who
      ? await findUsersByLogin(deps.db, who.login)
      : [await findUserByEmail(deps.db, normalizeEmail(who.email))].filter((u) => u !== null);
  let user: User | undefined;
  for (const candidate of candidates) {
    if (await checkPassword(candidate.password, password)) {
      user = candidate;
      break;
    }
  }
  // An unknown name costs one hash check too, so timing does not tell which names exist.
  if (candidates.length === 0) await checkPassword(null, password);
  if (!user?.isActive) throw noAccount();
  if (!user.isVerified) {
    throw new HttpError(403, { detail: 'Email not verified. Please verify your email before logging in.' });
  }
  return issuePair(deps, deps.db, user, randomUUID());
}

/**
 * Rotation: the presented token is used up and the next one joins its family. A token used
 * before is a replay: its family is revoked (and stays revoked: the transaction commits first).
 */
export async function refreshSession(deps: Deps, token: string): Promise<TokenPair> {
  try {
    await new TokenSigner(deps.config.secretKey).verify('refresh', token, deps.clock());
  } catch {
    throw refreshInvalid();
  }
  const outcome = await transaction(deps.db, async (tx) => {
    const [row] = await tx
      .select()
      .from(refreshTokens)
      .where(eq(refreshTokens.tokenHash, tokenHash(token)))
      .for('update');
    if (!row || row.revokedAt) return null;
    if (row.usedAt) {
      await revokeFamily(tx, row.familyId, deps.clock());
      return null;
    }
    const user = await findUserById(tx, row.userId);
    if (!user?.isActive) return null;
    await tx.update(refreshTokens).set({ usedAt: deps.clock() }).where(eq(refreshTokens.id, row.id));
    return issuePair(deps, tx, user, row.familyId);
  });
  if (!outcome) throw refreshInvalid();
  return outcome;
}

/** Ends the session the refresh token belongs to, on every device that shares it. */
export async function logout(deps: Deps, token: string): Promise<void> {
  try {
    await new TokenSigner(deps.config.secretKey).verify('refresh', token, deps.clock());
  } catch {
    throw refreshInvalid();
  }
  const [row] = await deps.db
    .select()
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, tokenHash(token)));
  if (!row) throw refreshInvalid();
  await revokeFamily(deps.db, row.familyId, deps.clock());
}

async function revokeFamily(executor: Executor, familyId: string, now: Date): Promise<void> {
  await executor
    .update(refreshTokens)
    .set({ revokedAt: now })
    .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)));
}

/** Every session of the user ends (password change or reset, deactivation). */
export async function revokeAllSessions(executor: Executor, userId: number, now: Date): Promise<void> {
  await executor
    .update(refreshTokens)
    .set({ revokedAt: now })
    .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)));
}
