import { buildApp } from '../src/app.js';
import type { Config } from '../src/config.js';
import { buildDeps } from '../src/deps.js';
import { queryRows } from '../src/platform/db/client.js';
import { sql } from 'drizzle-orm';
import { WORKLOAD } from './workload.js';

/**
 * The plan of every list query of the workload: each request runs in-process with the cache off,
 * its SQL is caught, and `EXPLAIN (ANALYZE, BUFFERS)` runs it again with the same parameters.
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
        const plan = await queryRows<Record<string, string>>(
          deps.db,
          sql.raw(`EXPLAIN (ANALYZE, BUFFERS) ${inline(query, params)}`),
        );
        out.push(query, ...plan.map((row) => Object.values(row)[0]!), '');
      }
    }
  } finally {
    await app.close();
    await deps.close();
  }
  return out.join('\n');
}

/** Puts the bound parameters into the query text, for EXPLAIN only (the values come from our own requests). */
function inline(query: string, params: unknown[]): string {
  return query.replace(/\$(\d+)/g, (_, n: string) => {
    const value = params[Number(n) - 1];
    if (value === null || value === undefined) return 'NULL';
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    const text =
      value instanceof Date ? value.toISOString() : typeof value === 'string' ? value : JSON.stringify(value);
    return `'${text.replace(/'/g, "''")}'`;
  });
}
