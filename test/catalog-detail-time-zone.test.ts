/**
 * Timestamps must come out right whatever the PostgreSQL server's default time zone. PostgreSQL
 * writes them as text in the session's zone (to the driver, and inside JSON), and before 1900 a
 * zone like Europe/Paris has an offset with seconds (+00:09:21) that JavaScript cannot read: every
 * session is set to UTC when it opens. Here the connections start in Europe/Paris (PGOPTIONS, as
 * a server configured so would), and the product detail, whose nested rows are JSON built in SQL,
 * is read back. PostgreSQL only: PGlite has no server default to differ.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { categories, productCategories, products, variants } from '../src/modules/catalog/tables.js';
import { queryRows } from '../src/platform/db/client.js';
import { createTestApp, type TestApp } from './helpers/app.js';

// node-postgres sends PGOPTIONS when it connects: the session's zone before the application's own SET.
process.env.PGOPTIONS = '-c TimeZone=Europe/Paris';

let t: TestApp;
const OLD = new Date('1850-06-01T12:00:00.123Z');

beforeAll(async () => {
  t = await createTestApp({ runJobs: false });
});

afterAll(async () => {
  await t.close();
  delete process.env.PGOPTIONS;
});

describe.skipIf(!process.env.DATABASE_URL)('a server whose default time zone is not UTC', () => {
  it('still gets sessions in UTC', async () => {
    const [zone] = await queryRows<{ zone: string }>(
      t.deps.db,
      sql`SELECT current_setting('TimeZone') AS zone`,
    );
    expect(zone!.zone).toBe('UTC');
  });

  it('reads and writes timestamps before 1900, nested ones included', async () => {
    const [category] = await t.deps.db
      .insert(categories)
      .values({ name: 'Antiques', slug: 'antiques', createdAt: OLD })
      .returning();
    const [product] = await t.deps.db
      .insert(products)
      .values({
        name: 'Clock',
        slug: 'clock',
        sku: 'CLOCK-1',
        price: '10.00',
        createdAt: OLD,
        updatedAt: OLD,
      })
      .returning();
    await t.deps.db.insert(productCategories).values({ productId: product!.id, categoryId: category!.id });
    await t.deps.db.insert(variants).values({
      productId: product!.id,
      name: 'Brass',
      sku: 'CLOCK-1-B',
      price: '10.00',
      stock: 1,
      createdAt: OLD,
    });

    const res = await t.app.inject({ method: 'GET', url: `/api/products/${product!.id}/` });
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      created_at: string;
      categories: Array<{ created_at: string }>;
      variants: Array<{ created_at: string }>;
    }>();
    expect(body.created_at).toBe(OLD.toISOString());
    expect(body.categories.map((c) => c.created_at)).toEqual([OLD.toISOString()]);
    expect(body.variants.map((v) => v.created_at)).toEqual([OLD.toISOString()]);
  });
});
