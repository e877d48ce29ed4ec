/** A UUID in its text form, any case (PostgreSQL's `uuid` type reads both). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The largest value of a PostgreSQL `integer` (a `serial` id). */
export const MAX_SERIAL_ID = 2_147_483_647;

/** A `serial` id in a path (`"42"`), or null for anything else: `0`, `-1`, `1.0`, `1e3`, too large. */
export function serialIdOf(text: string): number | null {
  if (!/^[1-9]\d{0,9}$/.test(text)) return null;
  const id = Number(text);
  return id <= MAX_SERIAL_ID ? id : null;
}
