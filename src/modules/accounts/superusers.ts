import type { Deps } from '../../platform/deps.js';
import { uniqueViolationToFieldErrors, type UniqueFieldErrors } from '../../platform/db/errors.js';
import { badRequest, type FieldErrors } from '../../platform/errors/http-errors.js';
import { hashPassword, passwordProblems } from './passwords.js';
import { users, type User } from './tables.js';
import { normalizeEmail } from './users.js';

// Django's createsuperuser words, not the API's: this is what its command line says.
const TAKEN: UniqueFieldErrors = {
  users_username_lower_key: ['username', 'That username is already taken.'],
  users_email_lower_key: ['email', 'That e-mail address is already taken.'],
};

const USERNAME = /^[\w.@+-]{1,150}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** An active, verified staff superuser; the same rules as registration, errors in the same shape. */
export async function createSuperuser(
  deps: Deps,
  input: { username: string; email: string; password: string },
): Promise<User> {
  const email = normalizeEmail(input.email);
  const errors: FieldErrors = {};
  if (!USERNAME.test(input.username))
    errors.username = ['Enter a valid username (letters, digits and @/./+/-/_).'];
  if (!EMAIL.test(email) || email.length > 254) errors.email = ['Enter a valid email address.'];
  const problems = passwordProblems(input.password, { username: input.username, email });
  if (problems.length > 0) errors.password = problems;
  if (Object.keys(errors).length > 0) throw badRequest(errors);
  try {
    const [user] = await deps.db
      .insert(users)
      .values({
        username: input.username,
        email,
        password: await hashPassword(input.password),
        isVerified: true,
        isActive: true,
        isStaff: true,
        isSuperuser: true,
      })
      .returning();
    return user!;
  } catch (err) {
    return uniqueViolationToFieldErrors(err, TAKEN);
  }
}
