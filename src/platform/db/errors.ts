/**
 * The constraint a unique violation (SQLSTATE 23505) was about, or null for any other error.
 * Drizzle wraps driver errors (`cause`); node-postgres and PGlite both report `code` and `constraint`.
 */
export function uniqueViolation(err: unknown): string | null {
  return violation(err, '23505');
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
