/**
 * What the database keeps derived from the catalog's own rows, by triggers (migration 0003):
 * - `product_counts`, the unfiltered lists' counts per audience;
 * - `products.category_ids`, the product's product_categories rows as an array (the category filter);
 * - `products.search_document`, the five searched fields lower-cased (the search);
 * - `public_category_prices`, (category, price, product) of every live, active product's links
 *   (the public list's count by category and price, migration 0008).
 * Whatever writes the rows (the API, plain SQL, many requests at once, a rolled-back transaction),
 * the derived data must equal what the rows say.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { categories, productCategories, products } from '../src/modules/catalog/tables.js';
import { queryRows } from '../src/platform/db/client.js';
import { transaction } from '../src/platform/db/transaction.js';
import { signedInUser } from './helpers/accounts.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { waitFor } from './helpers/wait.js';

let t: TestApp;
let staff: Record<string, string>;
let categoryIds: Record<string, string>;
let serial = 0;

beforeAll(async () => {
  t = await createTestApp();
  staff = (await signedInUser(t.app, t.deps, { isStaff: true })).headers;
  const rows = await t.deps.db
    .insert(categories)
    .values(['derived-a', 'derived-b', 'derived-c'].map((slug) => ({ name: slug, slug })))
    .returning();
  categoryIds = Object.fromEntries(rows.map((c) => [c.slug, c.id]));
});

afterAll(async () => {
  await t.close();
});

/** What public_category_prices must hold, from the links themselves. */
const expectedCategoryPrices = sql`SELECT pc.category_id, p.price, p.id FROM product_categories pc
  JOIN products p ON p.id = pc.product_id WHERE p.deleted_at IS NULL AND p.is_active`;

/** The stored counts beside the real ones, and how many products' arrays differ from their links. */
async function derivedState() {
  const [row] = await queryRows<{
    stored: Record<string, number>;
    actual: Record<string, number>;
    drifted: number;
    pricesDrifted: number;
  }>(
    t.deps.db,
    sql`SELECT
          (SELECT json_object_agg(audience, count) FROM product_counts) AS stored,
          json_build_object(
            'all', (SELECT count(*) FROM products),
            'live', (SELECT count(*) FROM products WHERE deleted_at IS NULL),
            'public', (SELECT count(*) FROM products WHERE deleted_at IS NULL AND is_active)) AS actual,
          (SELECT count(*)::int FROM products p WHERE p.category_ids IS DISTINCT FROM coalesce(
            (SELECT array_agg(pc.category_id ORDER BY pc.category_id) FROM product_categories pc
             WHERE pc.product_id = p.id), '{}')) AS drifted,
          (SELECT count(*)::int FROM (
            (SELECT category_id, price, product_id FROM public_category_prices
             EXCEPT ALL ${expectedCategoryPrices})
            UNION ALL
            (${expectedCategoryPrices}
             EXCEPT ALL SELECT category_id, price, product_id FROM public_category_prices)) d) AS "pricesDrifted"`,
  );
  return row!;
}

async function expectDerivedDataRight() {
  const state = await derivedState();
  expect(state.stored).toEqual(state.actual);
  expect(state.drifted).toBe(0);
  expect(state.pricesDrifted).toBe(0);
}

function newProduct(fields: Record<string, unknown> = {}) {
  serial += 1;
  return {
    name: `Derived ${serial}`,
    slug: `derived-${serial}`,
    sku: `DERIVED-${serial}`,
    price: '10.00',
    ...fields,
  };
}

async function create(fields: Record<string, unknown> = {}): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/products/',
    headers: staff,
    payload: newProduct(fields),
  });
  expect(res.statusCode).toBe(201);
  return res.json<{ id: string }>().id;
}

async function patch(id: string, payload: Record<string, unknown>) {
  const res = await t.app.inject({ method: 'PATCH', url: `/api/products/${id}/`, headers: staff, payload });
  expect(res.statusCode).toBe(200);
}

async function listCount(url: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await t.app.inject({ method: 'GET', url, headers });
  expect(res.statusCode).toBe(200);
  return res.json<{ count: number }>().count;
}

describe('derived catalog data', () => {
  it('follows every API write, and the unfiltered lists report the real counts', async () => {
    const a = await create({ categories: ['derived-a', 'derived-b'] });
    const b = await create({ is_active: false, categories: ['derived-c'] });
    const c = await create();
    await expectDerivedDataRight();

    await patch(a, { categories: ['derived-c'] });
    await patch(b, { is_active: true });
    await patch(c, { categories: ['derived-b', 'derived-a'] });
    const del = await t.app.inject({ method: 'DELETE', url: `/api/products/${a}/`, headers: staff });
    expect(del.statusCode).toBe(204);
    await expectDerivedDataRight();

    const { actual } = await derivedState();
    expect(await listCount('/api/products/')).toBe(actual.public);
    expect(await listCount('/api/products/', staff)).toBe(actual.live);
    expect(await listCount('/api/products/?include_deleted=true', staff)).toBe(actual.all);
  });

  it('follows plain SQL: bulk inserts, updates, hard deletes and link changes', async () => {
    const db = t.deps.db;
    const inserted = await db
      .insert(products)
      .values([newProduct(), newProduct({ isActive: false }), newProduct({ deletedAt: new Date() })])
      .returning({ id: products.id });
    const [p1, p2, p3] = inserted.map((r) => r.id) as [string, string, string];
    await db.insert(productCategories).values([
      { productId: p1, categoryId: categoryIds['derived-a']! },
      { productId: p1, categoryId: categoryIds['derived-b']! },
      { productId: p2, categoryId: categoryIds['derived-a']! },
    ]);
    await expectDerivedDataRight();

    await db.update(products).set({ isActive: true }).where(eq(products.id, p2));
    await db.update(productCategories).set({ productId: p3 }).where(eq(productCategories.productId, p2));
    await db.delete(productCategories).where(eq(productCategories.categoryId, categoryIds['derived-b']!));
    await expectDerivedDataRight();

    await db.delete(products).where(eq(products.id, p1));
    await expectDerivedDataRight();
  });

  it('leaves the counters alone when an edit changes no product visibility', async () => {
    const id = await create();
    const counterVersions = () =>
      queryRows<{ audience: string; xmin: string }>(
        t.deps.db,
        sql`SELECT audience, xmin::text FROM product_counts ORDER BY audience`,
      );
    const before = await counterVersions();
    await patch(id, { price: '12.34', name: 'Renamed' });
    await t.deps.db.update(products).set({ description: 'edited in SQL' }).where(eq(products.id, id));
    expect(await counterVersions()).toEqual(before);
  });

  it('is untouched by a transaction that rolls back', async () => {
    const before = await derivedState();
    await expect(
      transaction(t.deps.db, async (tx) => {
        const [row] = await tx.insert(products).values(newProduct()).returning({ id: products.id });
        await tx
          .insert(productCategories)
          .values({ productId: row!.id, categoryId: categoryIds['derived-a']! });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await derivedState()).toEqual(before);
  });

  it('stays exact under many writes at once', async () => {
    const doomed = await Promise.all(Array.from({ length: 8 }, () => create({ categories: ['derived-a'] })));
    const writes = [
      ...Array.from({ length: 16 }, (_, i) =>
        t.app.inject({
          method: 'POST',
          url: '/api/products/',
          headers: staff,
          payload: newProduct({ is_active: i % 3 !== 0, categories: i % 2 ? ['derived-a'] : ['derived-b'] }),
        }),
      ),
      ...doomed.map((id) => t.app.inject({ method: 'DELETE', url: `/api/products/${id}/`, headers: staff })),
      ...doomed.map((id) =>
        t.app.inject({
          method: 'PATCH',
          url: `/api/products/${id}/`,
          headers: staff,
          payload: { categories: ['derived-c'] },
        }),
      ),
    ];
    const statuses = (await Promise.all(writes)).map((r) => r.statusCode);
    // A PATCH that lands after its product's DELETE finds nothing: 404 is the right answer then.
    expect(statuses.every((s) => [200, 201, 204, 404].includes(s))).toBe(true);
    expect(statuses.filter((s) => s === 201)).toHaveLength(16);
    await expectDerivedDataRight();
  });

  it('empties the arrays when the links are truncated, and the counts when the products are', async () => {
    await create({ categories: ['derived-a'] });
    await t.deps.db.execute(sql`TRUNCATE product_categories`);
    await expectDerivedDataRight();
    await t.deps.db.execute(sql`TRUNCATE products CASCADE`);
    await expectDerivedDataRight();
    expect((await derivedState()).stored).toEqual({ all: 0, live: 0, public: 0 });
    await create();
    await expectDerivedDataRight();
  });
});

/** A promise and the function that settles it: to hold a transaction open at a chosen point. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** Resolves once another session of this database waits on a lock (B queued behind A). */
const someoneWaitsOnALock = () =>
  waitFor(
    async () => {
      const [row] = await queryRows<{ n: number }>(
        t.deps.db,
        sql`SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      return row!.n > 0;
    },
    10_000,
    "the second transaction to wait on the first one's lock",
  );

// PGlite runs one transaction at a time, so these interleavings can only happen on PostgreSQL.
describe.skipIf(!process.env.DATABASE_URL)('derived data under interleaved transactions (PostgreSQL)', () => {
  it('keeps both links when two transactions link one product at once', async () => {
    const id = await create();
    const aLinked = gate();
    const release = gate();
    const a = transaction(t.deps.db, async (tx) => {
      await tx.insert(productCategories).values({ productId: id, categoryId: categoryIds['derived-a']! });
      aLinked.open();
      await release.opened;
    });
    await aLinked.opened;
    // B's trigger waits on A's row lock; once A commits it must see A's link as well as its own.
    // `execute()` sends it now: a Drizzle query left un-awaited would not run until the end.
    const b = t.deps.db
      .insert(productCategories)
      .values({ productId: id, categoryId: categoryIds['derived-b']! })
      .execute();
    await someoneWaitsOnALock();
    release.open();
    await Promise.all([a, b]);
    const [row] = await t.deps.db
      .select({ ids: products.categoryIds })
      .from(products)
      .where(eq(products.id, id));
    expect([...row!.ids].sort()).toEqual([categoryIds['derived-a']!, categoryIds['derived-b']!].sort());
    await expectDerivedDataRight();
  });

  it('does not deadlock when transactions change different counts in turn', async () => {
    const doomed = await create();
    const aDeleted = gate();
    const release = gate();
    // A changes `live` and `public` first, then `all`; B changes all three at once in between.
    const a = transaction(t.deps.db, async (tx) => {
      await tx.update(products).set({ deletedAt: new Date() }).where(eq(products.id, doomed));
      aDeleted.open();
      await release.opened;
      await tx.insert(products).values(newProduct());
    });
    await aDeleted.opened;
    const b = t.deps.db.insert(products).values(newProduct()).execute();
    await someoneWaitsOnALock();
    release.open();
    await expect(Promise.all([a, b])).resolves.toBeDefined();
    await expectDerivedDataRight();
  });
});

describe('search over the lower-cased document', () => {
  it('matches whatever the case of the term and of the text, accents included', async () => {
    const id = await create({ name: 'Écran Sans Fil', description: 'Lumière DOUCE' });
    for (const term of ['écran', 'ÉCRAN', 'Écran', 'lumière douce', 'LUMIÈRE', 'sans fil']) {
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/products/?search=${encodeURIComponent(term)}`,
      });
      expect(res.json<{ results: Array<{ id: string }> }>().results.map((r) => r.id)).toContain(id);
    }
    const [{ document }] = (await queryRows<{ document: string }>(
      t.deps.db,
      sql`SELECT search_document AS document FROM products WHERE id = ${id}`,
    )) as [{ document: string }];
    expect(document).toContain('écran sans fil');
  });
});
