/**
 * Issue 8, acceptance 4 (categories): the tree never gets a cycle through the API, and one that got
 * in some other way (plain SQL) cannot hang a request. Before, `checkParent` read the ancestors
 * without a lock, so two moves (A under B, B under A) in concurrent transactions both passed and
 * both committed on PostgreSQL; and the recursive queries (`UNION ALL`) then ran for ever on every
 * `?category=` of that sub-tree, each holding a pool connection.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { updateCategory } from '../../src/modules/catalog/categories.js';
import { categories, productCategories, products, type Category } from '../../src/modules/catalog/tables.js';
import { queryRows } from '../../src/platform/db/client.js';
import { transaction } from '../../src/platform/db/transaction.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { waitFor } from '../helpers/wait.js';

const postgres = Boolean(process.env.DATABASE_URL);
const BELOW_ITSELF = { parent: ['A category cannot be placed below itself.'] };

let t: TestApp;
let staff: Record<string, string>;

beforeAll(async () => {
  // A recursion that did not stop would otherwise hold the request until the test times out:
  // with a short statement timeout (PostgreSQL) it fails as a 503 instead, and says so.
  t = await createTestApp({ env: { DATABASE_STATEMENT_TIMEOUT: '5s' } });
  staff = (await signedInUser(t.app, t.deps, { isStaff: true })).headers;
});
afterAll(() => t.close());

beforeEach(async () => {
  await t.deps.db.delete(productCategories);
  await t.deps.db.delete(products);
  await t.deps.db.delete(categories);
});

async function addCategories(...slugs: string[]): Promise<Category[]> {
  return t.deps.db
    .insert(categories)
    .values(slugs.map((slug) => ({ name: slug.toUpperCase(), slug })))
    .returning();
}

const move = (category: Category, parent: Category) =>
  t.app.inject({
    method: 'PATCH',
    url: `/api/categories/${category.id}/`,
    headers: staff,
    payload: { parent: parent.id },
  });

/** Each category's parent by slug, as stored. */
async function parents(): Promise<Record<string, string | null>> {
  const rows = await queryRows<{ slug: string; parent: string | null }>(
    t.deps.db,
    sql`SELECT c.slug, p.slug AS parent FROM categories c LEFT JOIN categories p ON p.id = c.parent_id`,
  );
  return Object.fromEntries(rows.map((r) => [r.slug, r.parent]));
}

/** Sessions of this test's database waiting for an advisory lock (the category tree's). */
async function waitingOnAdvisoryLock(): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    t.deps.db,
    sql`SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
  );
  return row!.n;
}

describe.skipIf(!postgres)(
  'concurrent moves (PostgreSQL only: PGlite runs one transaction at a time)',
  () => {
    it('B under A waits for the open move of A under B, then sees it: 400 on parent, one move committed', async () => {
      const [a, b] = await addCategories('a', 'b');
      let second: ReturnType<typeof move> | undefined;
      await transaction(t.deps.db, async (tx) => {
        // The first move, through the same use case the route calls, in a transaction left open.
        await updateCategory({ ...t.deps, db: tx }, a!, { parent: b!.id });
        second = move(b!, a!);
        // Either the second move queues behind the first (the fix), or it answers first because
        // nothing made it wait (the bug): then both commit and the assertions below say so.
        let answered = false;
        void second.then(() => (answered = true));
        await waitFor(
          async () => answered || (await waitingOnAdvisoryLock()) === 1,
          10_000,
          'the second move to wait for the first',
        );
      });
      const res = await second!;
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json()).toEqual(BELOW_ITSELF);
      expect(await parents()).toEqual({ a: 'b', b: null });
    });

    it('A under B and B under A sent at once, twenty times: each time exactly one wins', async () => {
      const [a, b] = await addCategories('a', 'b');
      for (let round = 0; round < 20; round++) {
        await t.deps.db.update(categories).set({ parentId: null });
        const answers = await Promise.all([move(a!, b!), move(b!, a!)]);
        const statuses = answers.map((r) => r.statusCode).sort();
        expect(statuses, `round ${round}`).toEqual([200, 400]);
        expect(answers.find((r) => r.statusCode === 400)!.json()).toEqual(BELOW_ITSELF);
        const stored = await parents();
        const winner = answers[0].statusCode === 200 ? { a: 'b', b: null } : { a: null, b: 'a' };
        expect(stored, `round ${round}`).toEqual(winner);
      }
    });
  },
);

describe('a cycle planted with plain SQL', () => {
  let a: Category;
  let b: Category;
  let c: Category;

  beforeEach(async () => {
    [a, b, c] = (await addCategories('a', 'b', 'c')) as [Category, Category, Category];
    // a → b → a: nothing in the API can make this; a restore or a hand-written UPDATE can.
    await t.deps.db.update(categories).set({ parentId: b.id }).where(eq(categories.id, a.id));
    await t.deps.db.update(categories).set({ parentId: a.id }).where(eq(categories.id, b.id));
    const [product] = await t.deps.db
      .insert(products)
      .values({ name: 'Lamp', slug: 'lamp', sku: 'LAMP-1', price: '9.99' })
      .returning();
    await t.deps.db.insert(productCategories).values({ productId: product!.id, categoryId: b.id });
  });

  it.each([
    ['the public', () => ({})],
    ['staff', () => staff],
  ])('?category= of the cycle answers its products to %s: the walk stops', async (_who, headers) => {
    const res = await t.app.inject({ url: '/api/products/?category=a', headers: headers() });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ count: 1, next: null, previous: null, results: [{ slug: 'lamp' }] });
  });

  it('the tree answers: the roots, without the categories of the cycle', async () => {
    for (const headers of [{}, staff]) {
      const res = await t.app.inject({ url: '/api/categories/tree/', headers });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject([{ slug: 'c', children: [] }]);
      expect(res.json()).toHaveLength(1);
    }
  });

  it('moves still check their ancestors over it: c under a is fine, a under c is refused', async () => {
    const under = await move(c, a);
    expect(under.statusCode, under.body).toBe(200);
    const refused = await move(a, c);
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json()).toEqual(BELOW_ITSELF);
    expect(await parents()).toEqual({ a: 'b', b: 'a', c: 'a' });
  });
});
