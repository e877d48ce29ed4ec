import { hash, verify } from '@node-rs/argon2';
import { dictionary } from '@zxcvbn-ts/language-common';

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 128;

/** zxcvbn's list of common passwords (~49,000), lower-cased, as Django's CommonPasswordValidator does. */
const commonPasswords = new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));

// A valid hash to verify against when there is no user, so a wrong username costs as long as a wrong password.
const DUMMY_HASH = await hash('no-such-user-password');

/** Argon2id with the library's defaults (19 MiB, 2 passes: OWASP's recommendation). */
export const hashPassword = (password: string) => hash(password);

export async function checkPassword(hashed: string | null, password: string): Promise<boolean> {
  try {
    const ok = await verify(hashed ?? DUMMY_HASH, password);
    return ok && hashed !== null;
  } catch {
    return false;
  }
}

/** Similarity of two strings, 0..1, from their edit distance. */
function similarity(a: string, b: string): number {
  if (a === b) return 1;
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return 1 - row[b.length]! / Math.max(a.length, b.length);
}

export interface PasswordContext {
  username?: string;
  email?: string;
  first_name?: string;
  last_name?: string;
}

const ATTRIBUTE_NAMES: Record<keyof PasswordContext, string> = {
  username: 'username',
  email: 'email address',
  first_name: 'first name',
  last_name: 'last name',
};

/** Django's password validators, in its words: returns the messages, empty when the password is acceptable. */
export function passwordProblems(password: string, context: PasswordContext): string[] {
  const problems: string[] = [];
  if (password.length < MIN_PASSWORD_LENGTH) {
    problems.push(`This password is too short. It must contain at least ${MIN_PASSWORD_LENGTH} characters.`);
  }
  if (/^\d+$/.test(password)) problems.push('This password is entirely numeric.');
  if (commonPasswords.has(password.toLowerCase().trim())) problems.push('This password is too common.');

  const lowered = password.toLowerCase();
  for (const [key, label] of Object.entries(ATTRIBUTE_NAMES) as Array<[keyof PasswordContext, string]>) {
    const value = context[key]?.toLowerCase();
    if (!value) continue;
    // The whole value and its parts: "jane.doe@example.com" → jane, doe, example, com.
    const parts = [value, ...value.split(/\W+/)].filter((part) => part.length >= 3);
    if (parts.some((part) => lowered.includes(part) || similarity(lowered, part) >= 0.7)) {
      problems.push(`The password is too similar to the ${label}.`);
      break;
    }
  }
  return problems;
}
