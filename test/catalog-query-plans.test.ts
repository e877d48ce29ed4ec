/**
 * The product list's statements run prepared, and after five executions PostgreSQL may plan them
 * once for any parameters (a generic plan). Such a plan must still be able to use the partial
 * indexes of the public list, whose predicate is `deleted_at IS NULL AND is_active`: the
 * statements must say that predicate literally, not `is_active = $1`. Checked by forcing generic
 * plans (and no sequential scans) on the statements the API really sends.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { products } from '../src/modules/catalog/tables.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { genericPlan, queryRecorder } from './helpers/query-plans.js';

let t: TestApp;
const recorder = queryRecorder();

beforeAll(async () => {
  t = await createTestApp({ runJobs: false, onQuery: recorder.onQuery });
  await t.deps.db.insert(products).values(
    Array.from({ length: 30 }, (_, i) => ({
      name: `Plan ${i}`,
      slug: `plan-${i}`,
      sku: `PLAN-${i}`,
      price: `${10 + i}.00`,
      isActive: i % 5 !== 0,
      createdAt: new Date(Date.UTC(2025, 8, 1 + i)),
    })),
  );
  await t.deps.db.execute(sql`ANALYZE products`);
});

afterAll(async () => {
  await t.close();
});

/** The generic plans of the list statements one public request sends. */
async function genericPlans(url: string): Promise<string[]> {
  let status = 0;
  const sent = await recorder.during(async () => {
    status = (await t.app.inject({ method: 'GET', url })).statusCode;
  });
  expect(status).toBe(200);
  const listStatements = sent.filter(({ query }) => /from "products"/.test(query));
  expect(listStatements.length).toBeGreaterThan(0);
  return Promise.all(listStatements.map((statement) => genericPlan(t.deps.db, statement)));
}

describe('generic plans of the public product list', () => {
  it.each([
    ['ordered by date', '/api/products/?created_after=2025-09-05T00:00:00Z', 'products_public_created_idx'],
    ['ordered by price', '/api/products/?min_price=15&ordering=-price', 'products_public_price_idx'],
  ])('use the public partial index (%s)', async (_what, url, index) => {
    const plans = await genericPlans(url);
    for (const plan of plans) {
      expect(plan).toContain(index);
      expect(plan).not.toMatch(/Seq Scan on products/);
    }
  });
});
