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

const MAX_SIMILARITY = 0.7;

/** Python's SequenceMatcher.quick_ratio: 2 × shared characters (as multisets) / total length. */
function quickRatio(a: string, b: string): number {
  const counts = new Map<string, number>();
  for (const c of b) counts.set(c, (counts.get(c) ?? 0) + 1);
  let matches = 0;
  for (const c of a) {
    const left = counts.get(c) ?? 0;
    if (left > 0) {
      matches++;
      counts.set(c, left - 1);
    }
  }
  return a.length + b.length === 0 ? 1 : (2 * matches) / (a.length + b.length);
}

/** Django skips an attribute far shorter than the password: it cannot make the password weak. */
function farShorter(password: string, value: string): boolean {
  return password.length >= 10 * value.length && value.length < (MAX_SIMILARITY / 2) * password.length;
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

  // Django's UserAttributeSimilarityValidator: the whole value and its parts ("jane.doe@example.com"
  // → jane, doe, example, com), each compared with quick_ratio.
  const lowered = password.toLowerCase();
  for (const [key, label] of Object.entries(ATTRIBUTE_NAMES) as Array<[keyof PasswordContext, string]>) {
    const value = context[key]?.toLowerCase();
    if (!value) continue;
    const parts = [...value.split(/\W+/), value].filter(Boolean);
    if (parts.some((part) => !farShorter(lowered, part) && quickRatio(lowered, part) >= MAX_SIMILARITY)) {
      problems.push(`The password is too similar to the ${label}.`);
      break;
    }
  }
  return problems;
}
