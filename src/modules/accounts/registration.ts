import { eq, or, sql } from 'drizzle-orm';
import type { Static } from 'typebox';
import type { Deps } from '../../platform/deps.js';
import { uniqueViolationToFieldErrors, type UniqueFieldErrors } from '../../platform/db/errors.js';
import { transaction } from '../../platform/db/transaction.js';
import { badRequest, HttpError, type FieldErrors } from '../../platform/errors/http-errors.js';
import { verificationEmail } from './emails.js';
import { hashPassword, passwordProblems } from './passwords.js';
import type { RegisterBody } from './schemas.js';
import { users, type User } from './tables.js';
import { emailDigest, TokenError, TokenSigner } from './tokens.js';
import { findUserByEmail, findUserById, normalizeEmail } from './users.js';

export const VERIFICATION_TTL_SECONDS = 24 * 3600;
export const SEND_VERIFICATION_EMAIL = 'send_verification_email';

// DRF's words (the original's serializers), which its clients may match on.
const USERNAME_TAKEN = 'A user with that username already exists.';
const EMAIL_TAKEN = 'A user with this email already exists.';

/** The users table's unique indexes as the field errors of the API. */
export const USER_TAKEN: UniqueFieldErrors = {
  users_username_lower_key: ['username', USERNAME_TAKEN],
  users_email_lower_key: ['email', EMAIL_TAKEN],
};

/** Creates an unverified account and schedules its verification e-mail, in one transaction. */
export async function register(deps: Deps, input: Static<typeof RegisterBody>): Promise<User> {
  const email = normalizeEmail(input.email);
  const errors: FieldErrors = {};
  const problems = passwordProblems(input.password, { ...input, email });
  if (problems.length > 0) errors.password = problems;

  const taken = await deps.db
    .select({ username: users.username, email: users.email })
    .from(users)
    .where(
      or(
        eq(sql`lower(${users.username})`, sql`lower(${input.username})`),
        eq(sql`lower(${users.email})`, sql`lower(${email})`),
      ),
    );
  if (taken.some((u) => u.username.toLowerCase() === input.username.toLowerCase()))
    errors.username = [USERNAME_TAKEN];
  if (taken.some((u) => u.email.toLowerCase() === email.toLowerCase())) errors.email = [EMAIL_TAKEN];
  if (Object.keys(errors).length > 0) throw badRequest(errors);

  const password = await hashPassword(input.password);
  try {
    return await transaction(deps.db, async (tx) => {
      const [user] = await tx
        .insert(users)
        .values({
          username: input.username,
          email,
          password,
          firstName: input.first_name,
          lastName: input.last_name,
          phone: input.phone ?? '',
        })
        .returning();
      await deps.jobs.enqueue(tx, SEND_VERIFICATION_EMAIL, { user_id: user!.id });
      return user!;
    });
  } catch (err) {
    // Two registrations raced past the check above; the unique index decided.
    return uniqueViolationToFieldErrors(err, USER_TAKEN);
  }
}

const invalidLink = () => new HttpError(400, { detail: 'Invalid verification link.' });

/** Marks the account verified; a second click answers the same. */
export async function verifyEmail(deps: Deps, token: string): Promise<void> {
  let claims;
  try {
    claims = await new TokenSigner(deps.config.secretKey).verify('verify_email', token, deps.clock());
  } catch (err) {
    if (err instanceof TokenError && err.reason === 'expired') {
      throw new HttpError(400, { detail: 'Verification link expired.' });
    }
    throw invalidLink();
  }
  const user = await findUserById(deps.db, claims.userId);
  // A link issued for another address (the e-mail changed since) is not valid for this one.
  if (!user || claims.emailDigest !== emailDigest(user.email)) throw invalidLink();
  if (!user.isVerified) {
    await deps.db
      .update(users)
      .set({ isVerified: true, updatedAt: deps.clock() })
      .where(eq(users.id, user.id));
  }
}

/** Sends a new link to an unverified account; says nothing about whether there is one. */
export async function resendVerification(deps: Deps, email: string): Promise<void> {
  const user = await findUserByEmail(deps.db, normalizeEmail(email));
  if (!user || user.isVerified || !user.isActive) return;
  await transaction(deps.db, (tx) => deps.jobs.enqueue(tx, SEND_VERIFICATION_EMAIL, { user_id: user.id }));
}

/** The job: records the attempt, signs a 24-hour link and sends it; records the success. */
export async function sendVerificationEmail(deps: Deps, userId: number): Promise<void> {
  const user = await findUserById(deps.db, userId);
  if (!user || user.isVerified) return;
  await deps.db
    .update(users)
    .set({
      verificationEmailAttempts: sql`${users.verificationEmailAttempts} + 1`,
      verificationEmailLastAttempt: deps.clock(),
    })
    .where(eq(users.id, userId));
  const { token } = await new TokenSigner(deps.config.secretKey).sign(
    'verify_email',
    { userId, email: user.email },
    deps.clock(),
    VERIFICATION_TTL_SECONDS,
  );
  await deps.mailer.send(
    verificationEmail(user, `${deps.config.siteUrl}/api/verify-email/${token}/`, deps.config.shopName),
  );
  await deps.db.update(users).set({ verificationEmailLastSuccess: deps.clock() }).where(eq(users.id, userId));
}
