import { buildApp } from '../src/app.js';
import type { Config } from '../src/config.js';
import { buildDeps } from '../src/deps.js';
import { queryRows, type Executor } from '../src/platform/db/client.js';
import { transaction } from '../src/platform/db/transaction.js';
import { sql } from 'drizzle-orm';
import { WORKLOAD } from './workload.js';

/**
 * The plan of every list query of the workload: each request runs in-process with the cache off,
 * its SQL is caught, and run again as the server runs it, a prepared statement, with the same
 * parameters. After five executions PostgreSQL may switch from a plan made for the values to a
 * generic one; the plan printed is the one of the sixth, i.e. what a busy server uses.
 */
export async function explainWorkload(config: Config, firstProductId: string): Promise<string> {
  const captured: Array<{ query: string; params: unknown[] }> = [];
  let capturing = false;
  const deps = await buildDeps(
    {
      ...config,
      cache: { ...config.cache, enabled: false },
      throttle: { ...config.throttle, enabled: false },
    },
    { onQuery: (query, params) => capturing && captured.push({ query, params }) },
  );
  const app = await buildApp(deps);
  const out: string[] = [];
  try {
    for (const { label, path, list } of WORKLOAD.filter((w) => w.list)) {
      captured.length = 0;
      capturing = true;
      await app.inject({ method: 'GET', url: path(firstProductId) });
      capturing = false;
      out.push(`== ${label} ${path(firstProductId)}${list ? '' : ''}`);
      for (const { query, params } of captured) {
        const plan = await transaction(deps.db, (tx) => preparedPlan(tx, query, params));
        out.push(query, ...plan, '');
      }
    }
  } finally {
    await app.close();
    await deps.close();
  }
  return out.join('\n');
}

/** `EXPLAIN (ANALYZE, BUFFERS)` of the sixth execution of the query as a prepared statement (one connection: a transaction). */
export async function preparedPlan(tx: Executor, query: string, params: unknown[]): Promise<string[]> {
  await tx.execute(sql.raw(`PREPARE bench_explain AS ${query}`));
  const execute = `EXECUTE bench_explain${params.length ? `(${params.map(literal).join(', ')})` : ''}`;
  for (let i = 0; i < 5; i++) await tx.execute(sql.raw(execute));
  const plan = await queryRows<Record<string, string>>(tx, sql.raw(`EXPLAIN (ANALYZE, BUFFERS) ${execute}`));
  await tx.execute(sql.raw('DEALLOCATE bench_explain'));
  return plan.map((row) => Object.values(row)[0]!);
}

/** A parameter as an SQL literal, for EXPLAIN only (the values come from our own requests). */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text =
    value instanceof Date ? value.toISOString() : typeof value === 'string' ? value : JSON.stringify(value);
  return `'${text.replace(/'/g, "''")}'`;
}
