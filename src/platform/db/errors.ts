import { badRequest } from '../errors/http-errors.js';

/**
 * The constraint a unique violation (SQLSTATE 23505) was about, or null for any other error.
 * Drizzle wraps driver errors (`cause`); node-postgres and PGlite both report `code` and `constraint`.
 */
function uniqueViolation(err: unknown): string | null {
  return violation(err, '23505');
}

/** Per unique constraint, the field it guards and the message that field gets when it is violated. */
export type UniqueFieldErrors = Readonly<Record<string, readonly [field: string, message: string]>>;

/**
 * A unique violation of one of `constraints` as the 400 on its field, in DRF's shape; any other error
 * as it was. Even after a check in the use case, a concurrent write can win and leave only the index
 * to decide, so every such check needs this behind it.
 */
export function uniqueViolationToFieldErrors(err: unknown, constraints: UniqueFieldErrors): never {
  const constraint = uniqueViolation(err);
  if (constraint !== null && Object.hasOwn(constraints, constraint)) {
    const [field, message] = constraints[constraint]!;
    throw badRequest({ [field]: [message] });
  }
  throw err;
}

/** The constraint a foreign-key violation (SQLSTATE 23503) was about, or null. */
export function foreignKeyViolation(err: unknown): string | null {
  return violation(err, '23503');
}

/** PostgreSQL cancelled the statement (SQLSTATE 57014): it ran past `DATABASE_STATEMENT_TIMEOUT`. */
export function statementCancelled(err: unknown): boolean {
  return violation(err, '57014') !== null;
}

function violation(err: unknown, sqlState: string): string | null {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const fields = e as Error & { code?: unknown; constraint?: unknown };
    if (fields.code === sqlState) return typeof fields.constraint === 'string' ? fields.constraint : '';
  }
  return null;
}
