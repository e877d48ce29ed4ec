/**
 * The constraint a unique violation (SQLSTATE 23505) was about, or null for any other error.
 * Drizzle wraps driver errors (`cause`); node-postgres and PGlite both report `code` and `constraint`.
 */
export function uniqueViolation(err: unknown): string | null {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const fields = e as Error & { code?: unknown; constraint?: unknown };
    if (fields.code === '23505') return typeof fields.constraint === 'string' ? fields.constraint : '';
  }
  return null;
}
