import { sql } from 'drizzle-orm';

/**
 * The columns an upsert copies and compares, as SQL fragments: the plain list (for the INSERT),
 * the list under a table alias, and the `col = EXCLUDED.col` assignments of `DO UPDATE SET`.
 * The names are the loaders' own constants, never input.
 */
export function upsertColumns(columns: string) {
  const names = columns.split(', ');
  return {
    list: sql.raw(columns),
    of: (alias: string) => sql.raw(names.map((c) => `${alias}.${c}`).join(', ')),
    assignments: sql.raw(names.map((c) => `${c} = EXCLUDED.${c}`).join(', ')),
  };
}
