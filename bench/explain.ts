import { buildApp } from '../src/app.js';
import type { Config } from '../src/config.js';
import { buildDeps } from '../src/deps.js';
import { preparedPlan } from '../src/platform/db/plans.js';
import { transaction } from '../src/platform/db/transaction.js';
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
