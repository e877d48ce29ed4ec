import { sql } from 'drizzle-orm';
import { queryRows, type Executor } from './client.js';

/**
 * `EXPLAIN (ANALYZE, BUFFERS)` of the sixth execution of `query` as a prepared statement: after
 * five, PostgreSQL may have moved to a generic plan, the one a busy server then uses. `tx` must
 * hold one connection (a transaction). For diagnostics (the benchmark, plan tests) on the
 * application's own statements and values, never on input.
 */
export async function preparedPlan(tx: Executor, query: string, params: unknown[]): Promise<string[]> {
  await tx.execute(sql.raw(`PREPARE nexus_explain AS ${query}`));
  const execute = `EXECUTE nexus_explain${params.length ? `(${params.map(literal).join(', ')})` : ''}`;
  for (let i = 0; i < 5; i++) await tx.execute(sql.raw(execute));
  const plan = await queryRows<Record<string, string>>(tx, sql.raw(`EXPLAIN (ANALYZE, BUFFERS) ${execute}`));
  await tx.execute(sql.raw('DEALLOCATE nexus_explain'));
  return plan.map((row) => Object.values(row)[0]!);
}

/** A parameter as an SQL literal: for `preparedPlan` only. */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text =
    value instanceof Date ? value.toISOString() : typeof value === 'string' ? value : JSON.stringify(value);
  return `'${text.replace(/'/g, "''")}'`;
}
