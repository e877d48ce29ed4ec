/**
 * PostgreSQL takes years 1 to 9999 as written to it; year 0 (also reached through an offset, as in
 * 0001-01-01T00:00+01:00) and years past 9999 are errors of the database, so they are the client's 400.
 */
export function storableDate(date: Date): boolean {
  const year = date.getUTCFullYear();
  return !Number.isNaN(date.getTime()) && year >= 1 && year <= 9999;
}
