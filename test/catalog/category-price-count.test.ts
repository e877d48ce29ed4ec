/**
 * The public list filtered by category and price counts from public_category_prices (migration
 * 0008). Whatever the range, the sub-tree and the writes before it, the count and the page must
 * equal a direct query of the products and their links.
 */
import { eq, inArray, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  categories,
  productCategories,
  products,
  publicCategoryPrices,
} from '../../src/modules/catalog/tables.js';
import { queryRows } from '../../src/platform/db/client.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let staff: Record<string, string>;
const tag = `cp${Date.now().toString(36)}`;
/** parent ⊃ child; `other` is outside the tree. */
const tree: Record<'parent' | 'child' | 'other', string> = { parent: '', child: '', other: '' };
const made: string[] = [];
let serial = 0;

async function create(price: string, where: Array<keyof typeof tree>, fields: Record<string, unknown> = {}) {
  serial += 1;
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/products/',
    headers: staff,
    payload: {
      name: `Priced ${tag} ${serial}`,
      slug: `${tag}-${serial}`,
      sku: `${tag.toUpperCase()}-${serial}`,
      price,
      categories: where.map((w) => `${tag}-${w}`),
      ...fields,
    },
  });
  expect(res.statusCode).toBe(201);
  const id = res.json<{ id: string }>().id;
  made.push(id);
  return id;
}

beforeAll(async () => {
  t = await createTestApp();
  staff = (await signedInUser(t.app, t.deps, { isStaff: true })).headers;
  const [parent] = await t.deps.db
    .insert(categories)
    .values({ name: 'parent', slug: `${tag}-parent` })
    .returning();
  const [child, other] = await t.deps.db
    .insert(categories)
    .values([
      { name: 'child', slug: `${tag}-child`, parentId: parent!.id },
      { name: 'other', slug: `${tag}-other` },
    ])
    .returning();
  Object.assign(tree, { parent: parent!.id, child: child!.id, other: other!.id });
  // Prices repeat on purpose (ties broken by id), and one product sits in both parent and child.
  const prices = ['5.00', '10.00', '10.00', '19.99', '25.50', '50.00', '50.01', '75.00', '120.00'];
  for (const [i, price] of prices.entries()) {
    await create(price, i % 3 === 0 ? ['parent', 'child'] : i % 3 === 1 ? ['child'] : ['parent', 'other']);
  }
  await create('30.00', ['child'], { is_active: false });
  await create('30.00', ['other']);
  const doomed = await create('30.00', ['parent']);
  expect(
    (await t.app.inject({ method: 'DELETE', url: `/api/products/${doomed}/`, headers: staff })).statusCode,
  ).toBe(204);
});

afterAll(async () => {
  if (made.length > 0) await t.deps.db.delete(products).where(inArray(products.id, made));
  await t.deps.db.delete(categories).where(inArray(categories.id, [tree.child, tree.other]));
  await t.deps.db.delete(categories).where(eq(categories.id, tree.parent));
  await t.close();
});

interface Range {
  min?: string;
  max?: string;
}

/** The answer straight from the products and their links. */
async function direct(slug: keyof typeof tree, range: Range) {
  const ids = slug === 'parent' ? [tree.parent, tree.child] : [tree[slug]];
  const rows = await queryRows<{ id: string }>(
    t.deps.db,
    sql`SELECT p.id::text AS id FROM products p
        WHERE p.deleted_at IS NULL AND p.is_active
          AND EXISTS (SELECT 1 FROM product_categories pc
                      WHERE pc.product_id = p.id AND pc.category_id IN (${sql.join(ids, sql`, `)}))
          AND (${range.min ?? null}::numeric IS NULL OR p.price >= ${range.min ?? null}::numeric)
          AND (${range.max ?? null}::numeric IS NULL OR p.price <= ${range.max ?? null}::numeric)
        ORDER BY p.price DESC, p.id`,
  );
  return rows.map((r) => r.id);
}

async function listed(slug: keyof typeof tree, range: Range, page = 1) {
  const query = new URLSearchParams({ category: `${tag}-${slug}`, ordering: '-price', page_size: '3' });
  query.set('page', String(page));
  if (range.min !== undefined) query.set('min_price', range.min);
  if (range.max !== undefined) query.set('max_price', range.max);
  const res = await t.app.inject({ method: 'GET', url: `/api/products/?${query.toString()}` });
  return res;
}

async function expectListEqualsDirect(slug: keyof typeof tree, range: Range) {
  const expected = await direct(slug, range);
  const first = await listed(slug, range);
  expect(first.statusCode).toBe(200);
  expect(first.json<{ count: number }>().count).toBe(expected.length);
  expect(first.json<{ results: Array<{ id: string }> }>().results.map((r) => r.id)).toEqual(
    expected.slice(0, 3),
  );
  if (expected.length > 3) {
    const second = await listed(slug, range, 2);
    expect(second.json<{ results: Array<{ id: string }> }>().results.map((r) => r.id)).toEqual(
      expected.slice(3, 6),
    );
  }
}

const price = fc.integer({ min: 0, max: 13_000 }).map((cents) => (cents / 100).toFixed(2));
const range = fc.record({
  min: fc.option(price, { nil: undefined }),
  max: fc.option(price, { nil: undefined }),
});
const slug = fc.constantFrom<keyof typeof tree>('parent', 'child', 'other');

describe('the public list by category and price', () => {
  it('counts and pages as a direct query does, for any range and sub-tree', async () => {
    await fc.assert(
      fc.asyncProperty(slug, range, (s, r) => expectListEqualsDirect(s, r)),
      { numRuns: 40 },
    );
  });

  it('counts each product once when it sits in two categories of the sub-tree', async () => {
    const both = await create('42.00', ['parent', 'child']);
    const res = await listed('parent', { min: '42.00', max: '42.00' });
    expect(res.json<{ count: number; results: Array<{ id: string }> }>()).toMatchObject({
      count: 1,
      results: [{ id: both }],
    });
  });

  it('follows price, visibility and category changes, through the API and plain SQL', async () => {
    const id = await create('15.00', ['child']);
    const patch = (payload: Record<string, unknown>) =>
      t.app.inject({ method: 'PATCH', url: `/api/products/${id}/`, headers: staff, payload });
    expect((await patch({ price: '55.00' })).statusCode).toBe(200);
    await expectListEqualsDirect('parent', { min: '50', max: '60' });
    expect((await patch({ is_active: false })).statusCode).toBe(200);
    await expectListEqualsDirect('child', { max: '100' });
    await t.deps.db.update(products).set({ isActive: true, price: '7.25' }).where(eq(products.id, id));
    await expectListEqualsDirect('child', { max: '10' });
    // A bulk update of every product of the tree, then a link moved in SQL.
    await t.deps.db.execute(
      sql`UPDATE products SET price = price + 1 WHERE id IN (${sql.join(made, sql`, `)})`,
    );
    await t.deps.db
      .update(productCategories)
      .set({ categoryId: tree.other })
      .where(eq(productCategories.productId, id));
    for (const s of ['parent', 'child', 'other'] as const)
      await expectListEqualsDirect(s, { min: '8', max: '60' });
  });

  it('reads the count from public_category_prices, not from the products', async () => {
    // An entry no product stands behind shows in the count alone: proof of where the count comes from.
    const stray = {
      categoryId: tree.other,
      price: '3.33',
      productId: '00000000-0000-4000-8000-000000000001',
    };
    // Each read spells the bound differently: a cached response (a plain SQL write does not clear
    // the cache) would hide the count's source.
    const count = async (max: string) => (await listed('other', { max })).json<{ count: number }>().count;
    const before = await count('4');
    await t.deps.db.insert(publicCategoryPrices).values(stray);
    try {
      expect(await count('4.0')).toBe(before + 1);
    } finally {
      await t.deps.db.delete(publicCategoryPrices).where(eq(publicCategoryPrices.productId, stray.productId));
    }
    expect(await count('4.00')).toBe(before);
  });

  it('stays exact under many price changes at once', async () => {
    const ids = await Promise.all(Array.from({ length: 4 }, () => create('20.00', ['child'])));
    const writes = ids.flatMap((id) =>
      Array.from({ length: 6 }, (_, i) =>
        t.app.inject({
          method: 'PATCH',
          url: `/api/products/${id}/`,
          headers: staff,
          payload:
            i % 2 ? { price: `${20 + i}.00` } : { categories: i % 4 ? [`${tag}-parent`] : [`${tag}-child`] },
        }),
      ),
    );
    expect((await Promise.all(writes)).every((r) => r.statusCode === 200)).toBe(true);
    for (const s of ['parent', 'child'] as const) await expectListEqualsDirect(s, {});
    await expectListEqualsDirect('parent', { min: '21', max: '24' });
  });
});
