/**
 * Issue 8, acceptance 10: the public product list computes `in_stock` for the rows of its page only.
 * Written as an EXISTS in the statement that filters and limits, PostgreSQL costs it for every row
 * before the LIMIT and, around 10,000 products, plans it as a hashed sub-plan that reads every
 * variant on each request. The plan of the statement the API really sends (a generic plan, as a
 * busy server uses) must probe the variants index once per row of the page, at 1,000 and at
 * 10,000 products. PGlite (PostgreSQL 18) planned the old statement the same way, so this runs in
 * both modes.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/platform/db/client.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { genericPlan, queryRecorder, type SentQuery } from '../helpers/query-plans.js';

const PAGE_SIZE = 20;

/**
 * Products `from`..`to` as a shop has them: one in twenty inactive, about 2.5 variants each (a
 * fifth of them out of stock, some inactive), the dates spread so the default ordering has work.
 */
async function addCatalog(t: TestApp, from: number, to: number): Promise<void> {
  await t.deps.db.execute(sql`
    INSERT INTO products (name, slug, sku, price, is_active, created_at, updated_at)
    SELECT 'Product ' || i, 'product-' || i, 'SKU-' || i, (i % 500) + 0.99, i % 20 <> 0,
           timestamptz '2024-01-01' + i * interval '1 hour', timestamptz '2024-01-01' + i * interval '1 hour'
    FROM generate_series(${from}::int, ${to}::int) AS i`);
  await t.deps.db.execute(sql`
    INSERT INTO product_variants (product_id, name, sku, price, stock, is_active)
    SELECT p.id, 'Variant ' || v, p.sku || '-' || v, p.price, CASE WHEN v % 5 = 0 THEN 0 ELSE v END, v % 7 <> 0
    FROM products p CROSS JOIN generate_series(1, 3) AS v
    WHERE p.sku IN (SELECT 'SKU-' || i FROM generate_series(${from}::int, ${to}::int) AS i)
      AND (v < 3 OR p.price::int % 2 = 0)`);
  await t.deps.db.execute(sql`ANALYZE products, product_variants`);
}

describe('the product list’s in_stock over catalogs of 1,000 and 10,000 products', () => {
  let t: TestApp;
  const recorder = queryRecorder();

  beforeAll(async () => {
    // Every request must reach the database: a cached page sends no statement.
    t = await createTestApp({ runJobs: false, onQuery: recorder.onQuery, env: { CACHE_ENABLED: 'false' } });
  });
  afterAll(() => t?.close());

  /** The statement of `GET /api/products/` that reads the variants. */
  async function listStatement(): Promise<SentQuery> {
    let status = 0;
    const sent = await recorder.during(async () => {
      status = (await t.app.inject({ url: '/api/products/' })).statusCode;
    });
    expect(status).toBe(200);
    const reading = sent.filter(({ query }) => /product_variants/.test(query));
    expect(reading).toHaveLength(1);
    return reading[0]!;
  }

  /** The plan's nodes that read product_variants, with the rows and loops they ran. */
  function variantReads(plan: string) {
    return plan
      .split('\n')
      .filter((line) => /on product_variants/.test(line))
      .map((line) => {
        // PostgreSQL 15 writes `rows=1`, 18 (PGlite is 18) `rows=1.00`.
        const actual = /actual time=[\d.]+\.\.[\d.]+ rows=([\d.]+) loops=(\d+)/.exec(line);
        return { line: line.trim(), rows: Number(actual?.[1]), loops: Number(actual?.[2]) };
      });
  }

  it.each([
    [1_000, 1, 1_000],
    [10_000, 1_001, 10_000],
  ])('%i products: one probe of the variants index per row of the page', async (size, from, to) => {
    await addCatalog(t, from, to);
    const [row] = await queryRows<{ count: number }>(
      t.deps.db,
      sql`SELECT count(*)::int AS count FROM products`,
    );
    expect(row!.count).toBe(size);

    const plan = await genericPlan(t.deps.db, await listStatement());
    // A sub-plan is what turned hashed; a lateral join has none.
    expect(plan).not.toMatch(/SubPlan/);
    const reads = variantReads(plan);
    expect(reads, plan).toHaveLength(1);
    expect(reads[0]!.line, plan).toMatch(/Index (Only )?Scan using product_variants_product_idx/);
    // Once per product shown, each finding at most the one variant that EXISTS needs.
    expect(reads[0]!.loops, plan).toBe(PAGE_SIZE);
    expect(reads[0]!.rows, plan).toBeLessThanOrEqual(1);
  });
});
