/**
 * Acceptance for SPEC §4 (catalog) through the HTTP API, with §2's list conventions and §8's cache:
 * every filter, search and ordering of `GET /api/products/` against a fixture catalog whose answers
 * are known (and checked against direct SQL), what the public and staff may see, who may write,
 * how bad bodies are refused (nothing written), soft deletes, the detail's fixed query count, and
 * the response cache.
 */
import { randomUUID } from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { categories, productCategories, products, variants } from '../src/modules/catalog/tables.js';
import { queryRows } from '../src/platform/db/client.js';
import { signedInUser } from './helpers/accounts.js';
import { createTestApp, type TestApp } from './helpers/app.js';

// ---------------------------------------------------------------------------------------------
// The fixture catalog
// ---------------------------------------------------------------------------------------------

type Who = 'anon' | 'customer' | 'staff';

interface FixtureVariant {
  sku: string;
  stock: number;
  isActive: boolean;
  deleted: boolean;
}

interface FixtureProduct {
  i: number;
  id: string;
  name: string;
  slug: string;
  description: string;
  shortDescription: string;
  sku: string;
  price: string;
  comparePrice: string | null;
  createdAt: Date;
  updatedAt: Date;
  isActive: boolean;
  isDigital: boolean;
  deleted: boolean;
  attributes: Record<string, unknown>;
  categories: string[];
  variants: FixtureVariant[];
  inStock: boolean;
}

const N = 60;
const DAY = 86_400_000;
const START = Date.UTC(2025, 0, 1);
// Twelve prices, several tied; `(i * 7) % 12` gives each five products.
const PRICES = [
  '5.00',
  '9.99',
  '10.00',
  '10.00',
  '19.99',
  '25.50',
  '49.99',
  '50.00',
  '50.01',
  '99.00',
  '120.00',
  '10.00',
];
const ADJECTIVES = ['Wireless', 'Steel', 'Compact', 'Classic', 'WIRELESS', 'Portable'];
const NOUNS = ['Headphones', 'Kettle', 'Speaker', 'Lamp', 'Charger'];
const COLORS = ['red', 'blue', 'green', 'red', 'black'];

/** Top-level categories, their children, and one inactive top-level category. */
const CATEGORY_TREE: Record<string, string[]> = {
  electronics: ['audio', 'phones'],
  home: ['kitchen', 'garden'],
  archive: [],
};
const CATEGORY_NAMES: Record<string, string> = {
  electronics: 'Electronics',
  home: 'Home',
  archive: 'Archive',
  audio: 'Audio',
  phones: 'Phones',
  kitchen: 'Kitchen',
  garden: 'Garden',
};

function productSpec(i: number): Omit<FixtureProduct, 'id'> {
  let name = `${ADJECTIVES[i % 6]!} ${NOUNS[i % 5]!} ${i}`;
  let description = `Plain description number ${i}.`;
  // "wireless" in each of the five searched fields, in different products and cases.
  if (i % 8 === 3) description = `Pairs with any wireless dock (${i}).`;
  if (i % 7 === 2) description += ' Brushed steel body.';
  const shortDescription = i % 9 === 4 ? 'Wireless-ready' : '';
  const slug = i % 10 === 7 ? `wireless-ready-${i}` : `item-${i}`;
  const sku = i % 11 === 5 ? `SKU-WIRELESS-${i}` : `SKU-${String(i).padStart(3, '0')}`;
  // LIKE's wildcards, literally, and look-alikes that a wildcard would also match.
  if (i === 20) name = 'Discount 50% off';
  if (i === 21) description = 'A snake_case sample.';
  if (i === 22) name = 'Model 500 Speaker';
  if (i === 23) description = 'A snakeXcase sample.';

  const createdAt = new Date(START + ((i * 37) % 55) * 6.5 * DAY); // spread over 2025, five ties
  const updatedAt = new Date(createdAt.getTime() + ((i * 13) % 17) * DAY + 3_600_000);
  const attributes: Record<string, unknown> = {
    color: i % 17 === 0 ? 'Red' : COLORS[i % 5]!,
    size: i % 3 === 0 ? 42 : i % 3 === 1 ? 40 : i % 6 === 2 ? '42' : 38,
  };
  if (i % 4 === 0) attributes.material = 'steel';
  else if (i % 4 === 1) attributes.material = 'plastic';

  const cats = [
    ['audio'],
    ['audio', 'electronics'],
    ['phones'],
    ['kitchen'],
    ['kitchen', 'home'],
    i % 12 === 5 ? ['garden'] : [],
  ][i % 6]!;
  if (i % 10 === 9) cats.push('archive');

  const v = (k: number, stock: number, isActive = true, deleted = false): FixtureVariant => ({
    sku: `V-${i}-${k}`,
    stock,
    isActive,
    deleted,
  });
  const vars: FixtureVariant[] = [];
  if (i % 4 === 0 && i % 8 === 4) vars.push(v(0, 2));
  if (i % 4 === 1) vars.push(v(0, 0));
  if (i % 4 === 2) vars.push(v(0, 3), v(1, 0));
  if (i % 4 === 3) vars.push(v(0, 10, false), v(1, 0));
  if (i % 10 === 3) vars.push(v(9, 9, true, true)); // stock, but deleted: not in stock

  return {
    i,
    name,
    slug,
    description,
    shortDescription,
    sku,
    price: PRICES[(i * 7) % 12]!,
    comparePrice: i % 5 === 0 ? '999.00' : null,
    createdAt,
    updatedAt,
    isActive: i % 7 !== 3,
    isDigital: i % 4 === 2,
    deleted: i % 13 === 6,
    attributes,
    categories: cats,
    variants: vars,
    inStock: vars.some((x) => x.isActive && !x.deleted && x.stock > 0),
  };
}

let t: TestApp;
let staff: { headers: Record<string, string> };
let customer: { headers: Record<string, string> };
const queries: string[] = [];
const fixture: FixtureProduct[] = [];
const categoryIds: Record<string, string> = {};
const variantIds: Record<string, string> = {};

const fx = (i: number) => fixture[i]!;
const isPublic = (p: FixtureProduct) => p.isActive && !p.deleted;

beforeAll(async () => {
  t = await createTestApp({
    env: { JWT_ACCESS_TTL: '1h', DEMO_DATA: 'false' },
    onQuery: (q) => void queries.push(q),
    // No job poller: its queries would land in the counts of the query-count test.
    runJobs: false,
  });
  const db = t.deps.db;

  for (const [slug, children] of Object.entries(CATEGORY_TREE)) {
    const [top] = await db
      .insert(categories)
      .values({ name: CATEGORY_NAMES[slug]!, slug, isActive: slug !== 'archive' })
      .returning();
    categoryIds[slug] = top!.id;
    for (const child of children) {
      const [row] = await db
        .insert(categories)
        .values({ name: CATEGORY_NAMES[child]!, slug: child, parentId: top!.id, description: `${child}!` })
        .returning();
      categoryIds[child] = row!.id;
    }
  }

  const specs = Array.from({ length: N }, (_, i) => productSpec(i));
  const rows = await db
    .insert(products)
    .values(
      specs.map((s) => ({
        name: s.name,
        slug: s.slug,
        description: s.description,
        shortDescription: s.shortDescription,
        sku: s.sku,
        price: s.price,
        comparePrice: s.comparePrice,
        attributes: s.attributes,
        isActive: s.isActive,
        isDigital: s.isDigital,
        createdAt: s.createdAt,
        updatedAt: s.updatedAt,
        deletedAt: s.deleted ? new Date(Date.UTC(2025, 11, 31)) : null,
      })),
    )
    .returning({ id: products.id, sku: products.sku });
  const idBySku = new Map(rows.map((r) => [r.sku, r.id]));
  for (const s of specs) fixture.push({ ...s, id: idBySku.get(s.sku)! });

  await db
    .insert(productCategories)
    .values(
      fixture.flatMap((p) => p.categories.map((c) => ({ productId: p.id, categoryId: categoryIds[c]! }))),
    );
  const variantRows = await db
    .insert(variants)
    .values(
      fixture.flatMap((p) =>
        p.variants.map((v) => ({
          productId: p.id,
          name: `Variant ${v.sku}`,
          sku: v.sku,
          price: p.price,
          stock: v.stock,
          isActive: v.isActive,
          deletedAt: v.deleted ? new Date() : null,
        })),
      ),
    )
    .returning({ id: variants.id, sku: variants.sku });
  for (const r of variantRows) variantIds[r.sku] = r.id;

  staff = await signedInUser(t.app, t.deps, { isStaff: true });
  customer = await signedInUser(t.app, t.deps);
});

afterAll(async () => {
  await t?.close();
});

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

interface ListItem {
  id: string;
  name: string;
  slug: string;
  short_description: string;
  sku: string;
  price: string;
  compare_price: string | null;
  is_active: boolean;
  is_digital: boolean;
  in_stock: boolean;
  created_at: string;
}

interface PageBody<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

const headersOf = (who: Who): Record<string, string> =>
  who === 'staff' ? staff.headers : who === 'customer' ? customer.headers : {};

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

function call(method: Method, url: string, who: Who = 'anon', payload?: unknown, headers = {}) {
  return t.app.inject({
    method,
    url,
    headers: { ...headersOf(who), ...headers },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
}

const listUrl = (params: Record<string, string> = {}) => {
  const qs = new URLSearchParams(params).toString();
  return qs ? `/api/products/?${qs}` : '/api/products/';
};

/** Every page of the list, following `next`. */
async function walk(params: Record<string, string>, who: Who) {
  const items: ListItem[] = [];
  let url: string | null = listUrl(params);
  let count = -1;
  let pages = 0;
  while (url !== null) {
    const res: LightMyRequestResponse = await call('GET', url, who);
    expect(res.statusCode, res.body).toBe(200);
    expect(['HIT', 'MISS']).toContain(res.headers['x-cache']);
    const body: PageBody<ListItem> = res.json();
    if (count === -1) count = body.count;
    expect(body.count).toBe(count);
    items.push(...body.results);
    pages++;
    expect(pages).toBeLessThan(50);
    url = body.next === null ? null : new URL(body.next).pathname + new URL(body.next).search;
  }
  return { count, items, pages };
}

interface ExpectedRow {
  id: string;
  price: string;
  in_stock: boolean;
}

/** The answer, straight from the database: ids in order, prices as text, stock as SPEC §4 defines it. */
function expectedRows(where: SQL, order: string, limit = 1000, offset = 0): Promise<ExpectedRow[]> {
  return queryRows<ExpectedRow>(
    t.deps.db,
    sql`SELECT p.id, p.price::text AS price,
          EXISTS (SELECT 1 FROM product_variants v WHERE v.product_id = p.id
                  AND v.is_active AND v.deleted_at IS NULL AND v.stock > 0) AS in_stock
        FROM products p WHERE ${where}
        ORDER BY ${sql.raw(order)}, p.id
        LIMIT ${limit} OFFSET ${offset}`,
  );
}

const PUBLIC = sql`p.deleted_at IS NULL AND p.is_active`;
const STAFF = sql`p.deleted_at IS NULL`;
const EVERYTHING = sql`TRUE`;
const both = (...parts: SQL[]) => sql.join(parts, sql` AND `);

const priceAtLeast = (v: string) => sql`p.price >= ${v}::numeric`;
const priceAtMost = (v: string) => sql`p.price <= ${v}::numeric`;
const createdFrom = (iso: string) => sql`p.created_at >= ${iso}::timestamptz`;
const createdUntil = (iso: string) => sql`p.created_at <= ${iso}::timestamptz`;
/** Hand-written for the two-level fixture: the category itself or one of its children. */
const inCategory = (slug: string) =>
  sql`EXISTS (SELECT 1 FROM product_categories pc JOIN categories c ON c.id = pc.category_id
        WHERE pc.product_id = p.id
          AND (c.slug = ${slug} OR c.parent_id IN (SELECT id FROM categories WHERE slug = ${slug})))`;
const contains = (attrs: Record<string, unknown>) => sql`p.attributes @> ${JSON.stringify(attrs)}::jsonb`;
/** A literal, case-insensitive substring of any of the five fields: no LIKE, so no wildcards. */
const mentions = (term: string) =>
  sql`(${sql.join(
    ['name', 'slug', 'description', 'short_description', 'sku'].map(
      (f) => sql`strpos(lower(${sql.raw(`p.${f}`)}), lower(${term})) > 0`,
    ),
    sql` OR `,
  )})`;

const modelMentions = (p: FixtureProduct, term: string) =>
  [p.name, p.slug, p.description, p.shortDescription, p.sku].some((f) =>
    f.toLowerCase().includes(term.toLowerCase()),
  );
const modelInCategory = (p: FixtureProduct, slug: string) =>
  p.categories.some((c) => c === slug || (CATEGORY_TREE[slug] ?? []).includes(c));

interface ListCase {
  title: string;
  params: Record<string, string>;
  who?: Who;
  where: SQL;
  order?: string;
  /** The same answer, from the fixture's definition: which products (order comes from SQL). */
  model?: (p: FixtureProduct) => boolean;
  /** How many results the fixture gives, when it is worth pinning down (e.g. 0). */
  size?: number;
}

/** The list answers the case with exactly the ids (in order), count, prices and stock of direct SQL. */
async function expectList(c: ListCase) {
  const who = c.who ?? 'anon';
  const got = await walk({ ...c.params, page_size: '100' }, who);
  const want = await expectedRows(c.where, c.order ?? 'p.created_at DESC');
  expect(got.count).toBe(want.length);
  expect(got.items.map((r) => r.id)).toEqual(want.map((r) => r.id));
  expect(got.items.map((r) => [r.price, r.in_stock])).toEqual(want.map((r) => [r.price, r.in_stock]));
  if (c.model) {
    const modelIds = fixture.filter(c.model).map((p) => p.id);
    expect([...want.map((r) => r.id)].sort()).toEqual(modelIds.sort());
  }
  if (c.size !== undefined) expect(want.length).toBe(c.size);
  else expect(want.length).toBeGreaterThan(0);
  return got;
}

interface Snapshot {
  products: number;
  variants: number;
  categories: number;
  links: number;
  digest: string;
}

/** Row counts of the four catalog tables, and a digest of every row of them. */
async function snapshot(): Promise<Snapshot> {
  const [row] = await queryRows<Snapshot>(
    t.deps.db,
    sql`SELECT
      (SELECT count(*)::int FROM products) AS products,
      (SELECT count(*)::int FROM product_variants) AS variants,
      (SELECT count(*)::int FROM categories) AS categories,
      (SELECT count(*)::int FROM product_categories) AS links,
      md5(
        coalesce((SELECT string_agg(x::text, '|' ORDER BY x::text) FROM products x), '') ||
        coalesce((SELECT string_agg(x::text, '|' ORDER BY x::text) FROM product_variants x), '') ||
        coalesce((SELECT string_agg(x::text, '|' ORDER BY x::text) FROM categories x), '') ||
        coalesce((SELECT string_agg(x::text, '|' ORDER BY x::text) FROM product_categories x), '')
      ) AS digest`,
  );
  return row!;
}

/** A write that must be refused with `status`, leaving every catalog table as it was. */
async function refused(method: Method, url: string, who: Who, payload: unknown, status: number) {
  const before = await snapshot();
  const res = await call(method, url, who, payload);
  expect(res.statusCode, `${method} ${url} as ${who}: ${res.body}`).toBe(status);
  expect(await snapshot()).toEqual(before);
  return res.json<Record<string, unknown>>();
}

let made = 0;
const newProduct = (fields: Record<string, unknown> = {}) => {
  made++;
  return { name: `Made Product ${made}`, sku: `MADE-${made}`, price: '12.50', ...fields };
};

// ---------------------------------------------------------------------------------------------
// 1. Filters, search, ordering
// ---------------------------------------------------------------------------------------------

describe('GET /api/products/: filters, search and ordering against direct SQL', () => {
  it('lists the public catalog with the SPEC item fields, newest first', async () => {
    const got = await expectList({ title: 'default', params: {}, where: PUBLIC, model: isPublic });
    expect(got.count).toBe(fixture.filter(isPublic).length);
    const item = got.items[0]!;
    expect(Object.keys(item).sort()).toEqual(
      [
        'id',
        'name',
        'slug',
        'short_description',
        'sku',
        'price',
        'compare_price',
        'is_active',
        'is_digital',
        'in_stock',
        'created_at',
      ].sort(),
    );
    const p = fixture.find((x) => x.id === item.id)!;
    expect(item).toEqual({
      id: p.id,
      name: p.name,
      slug: p.slug,
      short_description: p.shortDescription,
      sku: p.sku,
      price: p.price,
      compare_price: p.comparePrice,
      is_active: true,
      is_digital: p.isDigital,
      in_stock: p.inStock,
      created_at: p.createdAt.toISOString(),
    });
  });

  it('reports in_stock only when an active, non-deleted variant has stock', async () => {
    const got = await walk({ page_size: '100', include_deleted: 'true' }, 'staff');
    expect(got.count).toBe(N);
    for (const item of got.items) {
      const p = fixture.find((x) => x.id === item.id)!;
      expect(item.in_stock, `product ${p.i}`).toBe(p.inStock);
    }
    // The fixture has every case: no variants, stock 0, inactive with stock, deleted with stock.
    expect(fx(0).variants).toHaveLength(0);
    expect(fx(1).inStock).toBe(false);
    expect(fx(2).inStock).toBe(true);
    expect(fx(23).variants.some((v) => !v.isActive && v.stock > 0)).toBe(true);
    expect(fx(23).variants.some((v) => v.deleted && v.stock > 0)).toBe(true);
    expect(fx(23).inStock).toBe(false);
  });

  const cases: ListCase[] = [
    // prices
    {
      title: 'min_price',
      params: { min_price: '10' },
      where: both(PUBLIC, priceAtLeast('10')),
      model: (p) => isPublic(p) && Number(p.price) >= 10,
    },
    {
      title: 'max_price',
      params: { max_price: '50' },
      where: both(PUBLIC, priceAtMost('50')),
      model: (p) => isPublic(p) && Number(p.price) <= 50,
    },
    {
      title: 'min_price and max_price',
      params: { min_price: '10.00', max_price: '50' },
      where: both(PUBLIC, priceAtLeast('10'), priceAtMost('50')),
      model: (p) => isPublic(p) && Number(p.price) >= 10 && Number(p.price) <= 50,
    },
    {
      title: 'a price range of one cent',
      params: { min_price: '50.01', max_price: '50.01' },
      where: both(PUBLIC, sql`p.price = 50.01`),
      model: (p) => isPublic(p) && p.price === '50.01',
    },
    {
      title: 'an empty price range',
      params: { min_price: '60', max_price: '90' },
      where: both(PUBLIC, priceAtLeast('60'), priceAtMost('90')),
      size: 0,
    },
    // dates
    {
      title: 'created_after (inclusive, Z)',
      params: { created_after: '2025-03-07T00:00:00Z' },
      where: both(PUBLIC, createdFrom('2025-03-07T00:00:00Z')),
      model: (p) => isPublic(p) && p.createdAt >= new Date('2025-03-07T00:00:00Z'),
    },
    {
      title: 'created_after with an offset',
      params: { created_after: '2025-03-07T05:30:00+05:30' },
      where: both(PUBLIC, createdFrom('2025-03-07T00:00:00Z')),
      model: (p) => isPublic(p) && p.createdAt >= new Date('2025-03-07T00:00:00Z'),
    },
    {
      title: 'created_before (Z)',
      params: { created_before: '2025-06-30T12:00:00Z' },
      where: both(PUBLIC, createdUntil('2025-06-30T12:00:00Z')),
      model: (p) => isPublic(p) && p.createdAt <= new Date('2025-06-30T12:00:00Z'),
    },
    {
      title: 'created_before with a negative offset',
      params: { created_before: '2025-10-01T00:00:00-02:00' },
      where: both(PUBLIC, createdUntil('2025-10-01T02:00:00Z')),
      model: (p) => isPublic(p) && p.createdAt <= new Date('2025-10-01T02:00:00Z'),
    },
    {
      title: 'created_after as a bare date',
      params: { created_after: '2025-06-01' },
      where: both(PUBLIC, createdFrom('2025-06-01T00:00:00Z')),
      model: (p) => isPublic(p) && p.createdAt >= new Date('2025-06-01T00:00:00Z'),
    },
    {
      title: 'created_after and created_before (SPEC §11 L4)',
      params: { created_after: '2025-09-01T00:00:00Z', created_before: '2025-09-30T23:59:59Z' },
      where: both(PUBLIC, createdFrom('2025-09-01T00:00:00Z'), createdUntil('2025-09-30T23:59:59Z')),
      model: (p) =>
        isPublic(p) &&
        p.createdAt >= new Date('2025-09-01T00:00:00Z') &&
        p.createdAt <= new Date('2025-09-30T23:59:59Z'),
    },
    // categories
    {
      title: 'category=<top-level> includes its children',
      params: { category: 'electronics' },
      where: both(PUBLIC, inCategory('electronics')),
      model: (p) => isPublic(p) && modelInCategory(p, 'electronics'),
    },
    {
      title: 'category=<other top-level>',
      params: { category: 'home' },
      where: both(PUBLIC, inCategory('home')),
      model: (p) => isPublic(p) && modelInCategory(p, 'home'),
    },
    {
      title: 'category=<leaf>',
      params: { category: 'audio' },
      where: both(PUBLIC, inCategory('audio')),
      model: (p) => isPublic(p) && p.categories.includes('audio'),
    },
    {
      title: 'category=<leaf without parent link>',
      params: { category: 'phones' },
      where: both(PUBLIC, inCategory('phones')),
      model: (p) => isPublic(p) && p.categories.includes('phones'),
    },
    { title: 'an unknown category', params: { category: 'no-such-category' }, where: sql`FALSE`, size: 0 },
    // booleans
    {
      title: 'is_digital=true',
      params: { is_digital: 'true' },
      where: both(PUBLIC, sql`p.is_digital`),
      model: (p) => isPublic(p) && p.isDigital,
    },
    {
      title: 'is_digital=false',
      params: { is_digital: 'false' },
      where: both(PUBLIC, sql`NOT p.is_digital`),
      model: (p) => isPublic(p) && !p.isDigital,
    },
    {
      title: 'is_digital=1',
      params: { is_digital: '1' },
      where: both(PUBLIC, sql`p.is_digital`),
    },
    {
      title: 'is_digital=0',
      params: { is_digital: '0' },
      where: both(PUBLIC, sql`NOT p.is_digital`),
    },
    {
      title: 'is_active=false is ignored for the public',
      params: { is_active: 'false' },
      where: PUBLIC,
      model: isPublic,
    },
    {
      title: 'include_deleted is ignored for the public',
      params: { include_deleted: 'true' },
      where: PUBLIC,
      model: isPublic,
    },
    // staff
    {
      title: 'staff: everything not deleted',
      params: {},
      who: 'staff',
      where: STAFF,
      model: (p) => !p.deleted,
    },
    {
      title: 'staff: is_active=true',
      params: { is_active: 'true' },
      who: 'staff',
      where: both(STAFF, sql`p.is_active`),
      model: (p) => !p.deleted && p.isActive,
    },
    {
      title: 'staff: is_active=false',
      params: { is_active: 'false' },
      who: 'staff',
      where: both(STAFF, sql`NOT p.is_active`),
      model: (p) => !p.deleted && !p.isActive,
    },
    {
      title: 'staff: include_deleted=true',
      params: { include_deleted: 'true' },
      who: 'staff',
      where: EVERYTHING,
      model: () => true,
    },
    {
      title: 'staff: include_deleted=true and is_active=false',
      params: { include_deleted: 'true', is_active: '0' },
      who: 'staff',
      where: sql`NOT p.is_active`,
      model: (p) => !p.isActive,
    },
    {
      title: 'a customer sees what the public sees',
      params: { is_active: 'false', include_deleted: 'true' },
      who: 'customer',
      where: PUBLIC,
      model: isPublic,
    },
    // attributes
    {
      title: 'attr.color=red',
      params: { 'attr.color': 'red' },
      where: both(PUBLIC, contains({ color: 'red' })),
      model: (p) => isPublic(p) && p.attributes.color === 'red',
    },
    {
      title: 'attr.color=Red (JSON values are case-sensitive)',
      params: { 'attr.color': 'Red' },
      where: both(PUBLIC, contains({ color: 'Red' })),
      model: (p) => isPublic(p) && p.attributes.color === 'Red',
    },
    {
      title: 'attr.size=42 matches the JSON number (and the string "42")',
      params: { 'attr.size': '42' },
      where: both(PUBLIC, sql`(${contains({ size: 42 })} OR ${contains({ size: '42' })})`),
      model: (p) => isPublic(p) && (p.attributes.size === 42 || p.attributes.size === '42'),
    },
    {
      title: 'attr.size=38',
      params: { 'attr.size': '38' },
      where: both(PUBLIC, contains({ size: 38 })),
      model: (p) => isPublic(p) && p.attributes.size === 38,
    },
    {
      title: 'two attr filters',
      params: { 'attr.color': 'red', 'attr.material': 'steel' },
      where: both(PUBLIC, contains({ color: 'red' }), contains({ material: 'steel' })),
      model: (p) => isPublic(p) && p.attributes.color === 'red' && p.attributes.material === 'steel',
    },
    {
      title: 'an attribute no product has',
      params: { 'attr.nope': '1' },
      where: sql`FALSE`,
      size: 0,
    },
    // search
    {
      title: 'search one term, in any of the five fields',
      params: { search: 'wireless' },
      where: both(PUBLIC, mentions('wireless')),
      model: (p) => isPublic(p) && modelMentions(p, 'wireless'),
    },
    {
      title: 'search is case-insensitive',
      params: { search: 'WiReLeSs' },
      where: both(PUBLIC, mentions('wireless')),
      model: (p) => isPublic(p) && modelMentions(p, 'wireless'),
    },
    {
      title: 'search does not look into attributes',
      params: { search: 'steel' },
      where: both(PUBLIC, mentions('steel')),
      model: (p) => isPublic(p) && modelMentions(p, 'steel'),
    },
    {
      title: 'search two terms: both must occur',
      params: { search: 'wireless steel' },
      where: both(PUBLIC, mentions('wireless'), mentions('steel')),
      model: (p) => isPublic(p) && modelMentions(p, 'wireless') && modelMentions(p, 'steel'),
    },
    {
      title: 'search % is literal',
      params: { search: '50%' },
      where: both(PUBLIC, mentions('50%')),
      size: 1,
    },
    {
      title: 'search _ is literal',
      params: { search: 'snake_case' },
      where: both(PUBLIC, mentions('snake_case')),
      size: 1,
    },
    {
      title: 'search a lone _',
      params: { search: '_' },
      where: both(PUBLIC, mentions('_')),
      size: 1,
    },
    {
      title: 'search with a category and a filter',
      params: { search: 'wireless', category: 'home', is_digital: 'false' },
      where: both(PUBLIC, mentions('wireless'), inCategory('home'), sql`NOT p.is_digital`),
      model: (p) => isPublic(p) && modelMentions(p, 'wireless') && modelInCategory(p, 'home') && !p.isDigital,
    },
    {
      title: 'staff search sees inactive products',
      params: { search: 'wireless' },
      who: 'staff',
      where: both(STAFF, mentions('wireless')),
      model: (p) => !p.deleted && modelMentions(p, 'wireless'),
    },
    // ordering
    { title: 'ordering=price', params: { ordering: 'price' }, where: PUBLIC, order: 'p.price' },
    { title: 'ordering=-price', params: { ordering: '-price' }, where: PUBLIC, order: 'p.price DESC' },
    {
      title: 'ordering=created_at',
      params: { ordering: 'created_at' },
      where: PUBLIC,
      order: 'p.created_at',
    },
    {
      title: 'ordering=-created_at (the default)',
      params: { ordering: '-created_at' },
      where: PUBLIC,
      order: 'p.created_at DESC',
    },
    {
      title: 'ordering=updated_at',
      params: { ordering: 'updated_at' },
      where: PUBLIC,
      order: 'p.updated_at',
    },
    {
      title: 'ordering=-updated_at',
      params: { ordering: '-updated_at' },
      where: PUBLIC,
      order: 'p.updated_at DESC',
    },
    { title: 'ordering=name', params: { ordering: 'name' }, where: PUBLIC, order: 'p.name' },
    { title: 'ordering=-name', params: { ordering: '-name' }, where: PUBLIC, order: 'p.name DESC' },
    {
      title: 'ordering=price,-created_at',
      params: { ordering: 'price,-created_at' },
      where: PUBLIC,
      order: 'p.price, p.created_at DESC',
    },
    {
      title: 'an unknown ordering is ignored (default order)',
      params: { ordering: 'bogus' },
      where: PUBLIC,
      order: 'p.created_at DESC',
    },
    {
      title: 'an unknown field in the ordering list is skipped',
      params: { ordering: 'bogus,-price,id' },
      where: PUBLIC,
      order: 'p.price DESC',
    },
    {
      title: 'staff ordering over inactive and deleted rows',
      params: { ordering: 'price', include_deleted: 'true' },
      who: 'staff',
      where: EVERYTHING,
      order: 'p.price',
    },
    // SPEC §11's L2
    {
      title: 'L2: min_price=10&max_price=50&category=electronics&ordering=-price',
      params: { min_price: '10', max_price: '50', category: 'electronics', ordering: '-price' },
      where: both(PUBLIC, priceAtLeast('10'), priceAtMost('50'), inCategory('electronics')),
      order: 'p.price DESC',
      model: (p) =>
        isPublic(p) && Number(p.price) >= 10 && Number(p.price) <= 50 && modelInCategory(p, 'electronics'),
    },
  ];

  it.each(cases.map((c) => [c.title, c] as const))('%s', async (_title, c) => {
    await expectList(c);
  });

  it('the fixture exercises what it should', () => {
    // Ties in price and in created_at, so the id tie-break matters.
    const live = fixture.filter(isPublic);
    expect(new Set(live.map((p) => p.price)).size).toBeLessThan(live.length);
    expect(new Set(fixture.map((p) => p.createdAt.getTime())).size).toBeLessThan(N);
    // "wireless" in each of the five searched fields on its own.
    expect(fixture.some((p) => /wireless/i.test(p.name) && !/wireless/i.test(p.slug))).toBe(true);
    expect(fixture.some((p) => /wireless/i.test(p.slug) && !/wireless/i.test(p.name))).toBe(true);
    expect(fixture.some((p) => /wireless/i.test(p.description) && !/wireless/i.test(p.name))).toBe(true);
    expect(fixture.some((p) => /wireless/i.test(p.shortDescription) && !/wireless/i.test(p.name))).toBe(true);
    expect(fixture.some((p) => /wireless/i.test(p.sku) && !/wireless/i.test(p.name))).toBe(true);
    // The inclusive created_after boundary is exactly a product's created_at.
    expect(fixture.some((p) => p.createdAt.toISOString() === '2025-03-07T00:00:00.000Z')).toBe(true);
  });

  it('pages through ties without overlap or gap (page_size 7, every ordering)', async () => {
    for (const [ordering, order] of [
      ['price', 'p.price'],
      ['-price', 'p.price DESC'],
      ['created_at', 'p.created_at'],
      ['-created_at', 'p.created_at DESC'],
      ['name', 'p.name'],
    ] as const) {
      const got = await walk({ ordering, page_size: '7' }, 'anon');
      const want = await expectedRows(PUBLIC, order);
      expect(got.pages).toBe(Math.ceil(want.length / 7));
      expect(got.items.map((r) => r.id)).toEqual(want.map((r) => r.id));
      expect(new Set(got.items.map((r) => r.id)).size).toBe(got.items.length);
    }
  });

  it('L3: search=wireless&page=2 is the second slice of the search, newest first', async () => {
    const res = await call('GET', '/api/products/?search=wireless&page=2&page_size=5');
    expect(res.statusCode, res.body).toBe(200);
    const body: PageBody<ListItem> = res.json();
    const all = await expectedRows(both(PUBLIC, mentions('wireless')), 'p.created_at DESC');
    const slice = await expectedRows(both(PUBLIC, mentions('wireless')), 'p.created_at DESC', 5, 5);
    expect(all.length).toBeGreaterThan(10);
    expect(body.count).toBe(all.length);
    expect(body.results.map((r) => r.id)).toEqual(slice.map((r) => r.id));
    expect(new URL(body.next!).searchParams.get('page')).toBe('3');
    expect(new URL(body.previous!).searchParams.get('search')).toBe('wireless');
  });

  it('L2 and L4 as literal URLs', async () => {
    const l2 = await call(
      'GET',
      '/api/products/?min_price=10&max_price=50&category=electronics&ordering=-price',
    );
    expect(l2.statusCode).toBe(200);
    const l2Want = await expectedRows(
      both(PUBLIC, priceAtLeast('10'), priceAtMost('50'), inCategory('electronics')),
      'p.price DESC',
      20,
    );
    expect(l2.json<PageBody<ListItem>>().results.map((r) => r.id)).toEqual(l2Want.map((r) => r.id));
    const l4 = await call(
      'GET',
      '/api/products/?created_after=2025-09-01T00:00:00Z&created_before=2025-09-30T23:59:59Z',
    );
    expect(l4.statusCode).toBe(200);
    const l4Want = await expectedRows(
      both(PUBLIC, createdFrom('2025-09-01T00:00:00Z'), createdUntil('2025-09-30T23:59:59Z')),
      'p.created_at DESC',
    );
    expect(l4.json<PageBody<ListItem>>().count).toBe(l4Want.length);
    expect(l4.json<PageBody<ListItem>>().results.map((r) => r.id)).toEqual(l4Want.map((r) => r.id));
  });

  it.each<[string, Who, Record<string, string>, Record<string, string[]> | string[]]>([
    ['min_price=abc', 'anon', { min_price: 'abc' }, { min_price: ['Enter a number.'] }],
    ['max_price=1,5', 'anon', { max_price: '1,5' }, { max_price: ['Enter a number.'] }],
    ['created_after=yesterday', 'anon', { created_after: 'yesterday' }, ['created_after']],
    [
      'created_before=2025-13-45T00:00:00Z',
      'anon',
      { created_before: '2025-13-45T00:00:00Z' },
      ['created_before'],
    ],
    ['is_digital=maybe', 'anon', { is_digital: 'maybe' }, ['is_digital']],
    // Well-formed but not a day of the calendar: not to be rolled over into March or May.
    [
      'created_after=2025-02-30T00:00:00Z',
      'anon',
      { created_after: '2025-02-30T00:00:00Z' },
      ['created_after'],
    ],
    ['created_before=2025-04-31', 'anon', { created_before: '2025-04-31' }, ['created_before']],
    ['search of 201 characters', 'anon', { search: 'w'.repeat(201) }, ['search']],
    ['staff is_active=maybe', 'staff', { is_active: 'maybe' }, ['is_active']],
    [
      'two bad filters at once',
      'staff',
      { min_price: 'abc', is_digital: 'maybe' },
      ['min_price', 'is_digital'],
    ],
  ])('a malformed filter (%s) is a 400 naming the parameter', async (_title, who, params, expected) => {
    const res = await call('GET', listUrl(params), who);
    expect(res.statusCode, res.body.slice(0, 300)).toBe(400);
    const body = res.json<Record<string, string[]>>();
    if (Array.isArray(expected)) {
      expect(Object.keys(body).sort()).toEqual([...expected].sort());
      for (const key of expected) {
        expect(body[key]).toHaveLength(1);
        expect(typeof body[key]![0]).toBe('string');
      }
    } else {
      expect(body).toEqual(expected);
    }
  });

  it('the public may send is_active=maybe: the filter does not exist for it', async () => {
    const res = await call('GET', listUrl({ is_active: 'maybe' }));
    expect(res.statusCode).toBe(200);
    expect(res.json<PageBody<ListItem>>().count).toBe(fixture.filter(isPublic).length);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. What the public and staff see
// ---------------------------------------------------------------------------------------------

describe('visibility: public and staff views', () => {
  const inactive = () => fx(3);
  const deleted = () => fx(6);
  const withVariants = () => fx(43); // inactive variant with stock, active one without, a deleted one

  it('the fixture picks are what their names say', () => {
    expect(inactive().isActive).toBe(false);
    expect(inactive().deleted).toBe(false);
    expect(deleted().deleted).toBe(true);
    expect(deleted().isActive).toBe(true);
    expect(isPublic(withVariants())).toBe(true);
    expect(isPublic(fx(9))).toBe(true);
    expect(fx(9).categories).toContain('archive');
  });

  it('public lists never show inactive or deleted products', async () => {
    const got = await walk({ page_size: '100' }, 'anon');
    const ids = new Set(got.items.map((r) => r.id));
    expect(ids.has(inactive().id)).toBe(false);
    expect(ids.has(deleted().id)).toBe(false);
    expect(got.items.every((r) => r.is_active)).toBe(true);
  });

  it('staff lists show inactive products, and deleted ones only with include_deleted', async () => {
    const plain = new Set((await walk({ page_size: '100' }, 'staff')).items.map((r) => r.id));
    expect(plain.has(inactive().id)).toBe(true);
    expect(plain.has(deleted().id)).toBe(false);
    const all = new Set(
      (await walk({ page_size: '100', include_deleted: 'true' }, 'staff')).items.map((r) => r.id),
    );
    expect(all.has(deleted().id)).toBe(true);
    const viaOne = new Set(
      (await walk({ page_size: '100', include_deleted: '1' }, 'staff')).items.map((r) => r.id),
    );
    expect(viaOne.has(deleted().id)).toBe(true);
  });

  it('public detail of an inactive or deleted product is a 404, by id and by slug', async () => {
    for (const p of [inactive(), deleted()]) {
      for (const key of [p.id, p.slug]) {
        for (const who of ['anon', 'customer'] as const) {
          const res = await call('GET', `/api/products/${key}/`, who);
          expect(res.statusCode, `${who} ${key}`).toBe(404);
          expect(res.json()).toEqual({ detail: 'Not found.' });
        }
      }
    }
  });

  it('staff detail of an inactive or deleted product is a 200', async () => {
    const a = await call('GET', `/api/products/${inactive().id}/`, 'staff');
    expect(a.statusCode).toBe(200);
    expect(a.json()).toMatchObject({ id: inactive().id, is_active: false, deleted_at: null });
    const bySlug = await call('GET', `/api/products/${inactive().slug}/`, 'staff');
    expect(bySlug.statusCode).toBe(200);
    const d = await call('GET', `/api/products/${deleted().id}/`, 'staff');
    expect(d.statusCode).toBe(200);
    expect(d.json().deleted_at).toBe('2025-12-31T00:00:00.000Z');
  });

  it('public detail: every field, active variants only, in_stock but no stock', async () => {
    const p = withVariants();
    const res = await call('GET', `/api/products/${p.slug}/`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      id: p.id,
      name: p.name,
      slug: p.slug,
      description: p.description,
      short_description: p.shortDescription,
      sku: p.sku,
      price: p.price,
      compare_price: p.comparePrice,
      attributes: p.attributes,
      is_active: true,
      is_digital: p.isDigital,
      in_stock: false,
      created_at: p.createdAt.toISOString(),
      updated_at: p.updatedAt.toISOString(),
      images: [],
    });
    expect(body).not.toHaveProperty('deleted_at');
    expect(body.categories.map((c: { slug: string }) => c.slug)).toEqual(['audio', 'electronics']);
    expect(body.variants).toHaveLength(1);
    const [v] = body.variants;
    expect(v).toMatchObject({ sku: `V-${p.i}-1`, is_active: true, in_stock: false, product: p.id });
    expect(v).not.toHaveProperty('stock');
    expect(v).not.toHaveProperty('low_stock_threshold');
    // By id gives the same product.
    const byId = await call('GET', `/api/products/${p.id}/`);
    expect(byId.json()).toEqual(body);
  });

  it('public detail of an in-stock product: the variant with stock says in_stock, without stock', async () => {
    const p = fx(2);
    const body = (await call('GET', `/api/products/${p.id}/`)).json();
    expect(body.in_stock).toBe(true);
    expect(body.variants.map((v: { sku: string; in_stock: boolean }) => [v.sku, v.in_stock])).toEqual([
      ['V-2-0', true],
      ['V-2-1', false],
    ]);
    for (const v of body.variants) expect(Object.keys(v)).not.toContain('stock');
  });

  it('staff detail: inactive variants too (never deleted ones), with stock and low_stock_threshold', async () => {
    const p = withVariants();
    const body = (await call('GET', `/api/products/${p.id}/`, 'staff')).json();
    expect(body.in_stock).toBe(false);
    expect(body.deleted_at).toBeNull();
    const bySku = Object.fromEntries(body.variants.map((v: { sku: string }) => [v.sku, v]));
    expect(Object.keys(bySku).sort()).toEqual([`V-${p.i}-0`, `V-${p.i}-1`]);
    expect(bySku[`V-${p.i}-0`]).toMatchObject({
      is_active: false,
      stock: 10,
      in_stock: false,
      low_stock_threshold: 5,
    });
    expect(bySku[`V-${p.i}-1`]).toMatchObject({ is_active: true, stock: 0, in_stock: false });
  });

  it('detail categories: the public never sees an inactive category, staff do', async () => {
    const p = fx(9);
    const pub = (await call('GET', `/api/products/${p.id}/`)).json();
    expect(pub.categories.map((c: { slug: string }) => c.slug)).toEqual(['kitchen']);
    const st = (await call('GET', `/api/products/${p.id}/`, 'staff')).json();
    expect(st.categories.map((c: { slug: string }) => c.slug)).toEqual(['archive', 'kitchen']);
    expect(st.categories[1]).toEqual({
      id: categoryIds.kitchen,
      name: 'Kitchen',
      slug: 'kitchen',
      description: 'kitchen!',
      parent: categoryIds.home,
      is_active: true,
      created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
  });

  it('GET /api/categories/: the public sees active categories only, staff all', async () => {
    const pub = await call('GET', '/api/categories/?page_size=100');
    expect(pub.statusCode).toBe(200);
    const want = await queryRows<{ id: string }>(
      t.deps.db,
      sql`SELECT id FROM categories WHERE is_active ORDER BY name, id`,
    );
    const pubBody = pub.json<PageBody<{ id: string; slug: string }>>();
    expect(pubBody.count).toBe(want.length);
    expect(pubBody.results.map((c) => c.id)).toEqual(want.map((r) => r.id));
    expect(pubBody.results.map((c) => c.slug)).toEqual([
      'audio',
      'electronics',
      'garden',
      'home',
      'kitchen',
      'phones',
    ]);

    const st = (await call('GET', '/api/categories/?page_size=100', 'staff')).json<
      PageBody<{ slug: string }>
    >();
    expect(st.count).toBe(7);
    expect(st.results.map((c) => c.slug)).toContain('archive');
    const customerView = (await call('GET', '/api/categories/?page_size=100', 'customer')).json<
      PageBody<unknown>
    >();
    expect(customerView.count).toBe(6);
  });

  it('GET /api/categories/tree/: nested; the public tree omits the inactive category', async () => {
    interface Node {
      slug: string;
      children: Node[];
    }
    const shape = (nodes: Node[]): unknown => nodes.map((n) => [n.slug, shape(n.children)]);
    const pub = await call('GET', '/api/categories/tree/');
    expect(pub.statusCode).toBe(200);
    expect(shape(pub.json<Node[]>())).toEqual([
      [
        'electronics',
        [
          ['audio', []],
          ['phones', []],
        ],
      ],
      [
        'home',
        [
          ['garden', []],
          ['kitchen', []],
        ],
      ],
    ]);
    const st = await call('GET', '/api/categories/tree/', 'staff');
    expect(shape(st.json<Node[]>())).toEqual([
      ['archive', []],
      [
        'electronics',
        [
          ['audio', []],
          ['phones', []],
        ],
      ],
      [
        'home',
        [
          ['garden', []],
          ['kitchen', []],
        ],
      ],
    ]);
  });

  it('GET /api/categories/<inactive>/ is a 404 for the public, a 200 for staff', async () => {
    for (const key of ['archive', categoryIds.archive!]) {
      expect((await call('GET', `/api/categories/${key}/`)).statusCode).toBe(404);
      expect((await call('GET', `/api/categories/${key}/`, 'customer')).statusCode).toBe(404);
      const st = await call('GET', `/api/categories/${key}/`, 'staff');
      expect(st.statusCode).toBe(200);
      expect(st.json()).toMatchObject({ slug: 'archive', is_active: false, parent: null });
    }
    const audio = await call('GET', '/api/categories/audio/');
    expect(audio.statusCode).toBe(200);
    expect(audio.json()).toMatchObject({ id: categoryIds.audio, parent: categoryIds.electronics });
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Writes: permissions, validation, soft delete
// ---------------------------------------------------------------------------------------------

describe('writes: permissions', () => {
  let emptyCategory: string;
  beforeAll(async () => {
    const [row] = await t.deps.db
      .insert(categories)
      .values({ name: 'Empty', slug: 'empty-perm' })
      .returning();
    emptyCategory = row!.id;
  });
  afterAll(async () => {
    await t.deps.db.execute(sql`DELETE FROM categories WHERE slug = 'empty-perm'`);
  });

  const routes = (): Array<[Method, string, unknown]> => {
    const p = fx(1);
    const v = variantIds['V-1-0']!;
    return [
      ['POST', '/api/products/', newProduct()],
      ['PUT', `/api/products/${p.id}/`, newProduct()],
      ['PATCH', `/api/products/${p.id}/`, { name: 'Hijacked' }],
      ['DELETE', `/api/products/${p.id}/`, undefined],
      ['POST', '/api/categories/', { name: 'Hijacked' }],
      ['PUT', `/api/categories/${emptyCategory}/`, { name: 'Hijacked' }],
      ['PATCH', `/api/categories/${emptyCategory}/`, { name: 'Hijacked' }],
      ['DELETE', `/api/categories/${emptyCategory}/`, undefined],
      ['GET', `/api/products/${p.id}/variants/`, undefined],
      ['POST', `/api/products/${p.id}/variants/`, { name: 'V', sku: 'HIJACK-V', price: '1.00' }],
      ['PATCH', `/api/variants/${v}/`, { stock: 99 }],
      ['DELETE', `/api/variants/${v}/`, undefined],
      // The guard runs before the body is read: a bad body still hears 401/403.
      ['POST', '/api/products/', { price: 'abc' }],
    ];
  };

  it('anonymous writes are 401 and write nothing', async () => {
    for (const [method, url, payload] of routes()) {
      const body = await refused(method, url, 'anon', payload, 401);
      expect(body).toEqual({ detail: 'Authentication credentials were not provided.' });
    }
  });

  it('customer writes are 403 and write nothing', async () => {
    for (const [method, url, payload] of routes()) {
      const body = await refused(method, url, 'customer', payload, 403);
      expect(body).toEqual({ detail: 'You do not have permission to perform this action.' });
    }
  });

  it('an invalid token is a 401 on a write', async () => {
    const before = await snapshot();
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/products/',
      headers: { authorization: 'Bearer not-a-token' },
      payload: newProduct(),
    });
    expect(res.statusCode).toBe(401);
    expect(await snapshot()).toEqual(before);
  });
});

describe('writes: staff', () => {
  it('creates, replaces, edits a product; adds, lists, edits, deletes a variant; deletes the product', async () => {
    const created = await call('POST', '/api/products/', 'staff', {
      name: 'Staff Widget Deluxe',
      sku: 'STAFF-1',
      price: '12.5',
      compare_price: 20,
      categories: ['audio', categoryIds.phones],
      attributes: { color: 'red', size: 42 },
      is_digital: true,
      weight: '1.25',
      dimensions: { w: 1, h: 2 },
    });
    expect(created.statusCode, created.body).toBe(201);
    const product = created.json();
    expect(product).toMatchObject({
      name: 'Staff Widget Deluxe',
      slug: 'staff-widget-deluxe',
      sku: 'STAFF-1',
      price: '12.50',
      compare_price: '20.00',
      attributes: { color: 'red', size: 42 },
      is_active: true,
      is_digital: true,
      in_stock: false,
      weight: '1.25',
      dimensions: { w: 1, h: 2 },
      variants: [],
      images: [],
      deleted_at: null,
    });
    expect(product.categories.map((c: { slug: string }) => c.slug)).toEqual(['audio', 'phones']);
    const [row] = await queryRows<{ price: string; n: number }>(
      t.deps.db,
      sql`SELECT price::text AS price, (SELECT count(*)::int FROM product_categories WHERE product_id = ${product.id}) AS n
          FROM products WHERE id = ${product.id}`,
    );
    expect(row).toEqual({ price: '12.50', n: 2 });

    const put = await call('PUT', `/api/products/${product.id}/`, 'staff', {
      name: 'Staff Widget',
      slug: 'staff-widget',
      sku: 'STAFF-1',
      price: 14,
      categories: ['kitchen'],
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({ name: 'Staff Widget', slug: 'staff-widget', price: '14.00' });
    expect(put.json().categories.map((c: { slug: string }) => c.slug)).toEqual(['kitchen']);

    const patch = await call('PATCH', `/api/products/${product.id}/`, 'staff', {
      price: '15',
      is_active: false,
    });
    expect(patch.statusCode, patch.body).toBe(200);
    expect(patch.json()).toMatchObject({ price: '15.00', is_active: false, name: 'Staff Widget' });

    const variant = await call('POST', `/api/products/${product.id}/variants/`, 'staff', {
      name: 'Large',
      sku: 'STAFF-1-L',
      price: '15.00',
      stock: 3,
      attributes: { size: 'L' },
    });
    expect(variant.statusCode, variant.body).toBe(201);
    const v = variant.json();
    expect(v).toMatchObject({
      product: product.id,
      sku: 'STAFF-1-L',
      price: '15.00',
      stock: 3,
      low_stock_threshold: 5,
      in_stock: true,
      is_active: true,
    });

    const listed = await call('GET', `/api/products/${product.id}/variants/`, 'staff');
    expect(listed.statusCode).toBe(200);
    expect(listed.json()).toEqual([v]);

    const edited = await call('PATCH', `/api/variants/${v.id}/`, 'staff', { stock: 0, price: 16 });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.json()).toMatchObject({ stock: 0, in_stock: false, price: '16.00' });

    const gone = await call('DELETE', `/api/variants/${v.id}/`, 'staff');
    expect(gone.statusCode).toBe(204);
    expect(gone.body).toBe('');
    const [vrow] = await queryRows<{ deleted: boolean }>(
      t.deps.db,
      sql`SELECT deleted_at IS NOT NULL AS deleted FROM product_variants WHERE id = ${v.id}`,
    );
    expect(vrow).toEqual({ deleted: true });
    expect((await call('GET', `/api/products/${product.id}/variants/`, 'staff')).json()).toEqual([]);
    expect((await call('PATCH', `/api/variants/${v.id}/`, 'staff', { stock: 1 })).statusCode).toBe(404);

    const del = await call('DELETE', `/api/products/${product.id}/`, 'staff');
    expect(del.statusCode).toBe(204);
  });

  it('creates, edits, replaces and deletes a category; the slug is made from the name', async () => {
    const created = await call('POST', '/api/categories/', 'staff', { name: 'Home & Kitchen' });
    expect(created.statusCode, created.body).toBe(201);
    const c = created.json();
    expect(c).toMatchObject({
      name: 'Home & Kitchen',
      slug: 'home-kitchen',
      parent: null,
      is_active: true,
      description: '',
    });

    const patched = await call('PATCH', `/api/categories/${c.id}/`, 'staff', { description: 'Pots.' });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ description: 'Pots.', slug: 'home-kitchen' });

    const put = await call('PUT', `/api/categories/${c.slug}/`, 'staff', {
      name: 'Home & Kitchen',
      slug: 'home-and-kitchen',
      parent: categoryIds.home,
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({ slug: 'home-and-kitchen', parent: categoryIds.home });

    const child = await call('POST', '/api/categories/', 'staff', {
      name: 'Cookware',
      parent: c.id,
      is_active: false,
    });
    expect(child.statusCode, child.body).toBe(201);
    expect(child.json()).toMatchObject({ slug: 'cookware', parent: c.id, is_active: false });

    // A parent with a child: 409, nothing deleted.
    const conflict = await refused('DELETE', `/api/categories/${c.id}/`, 'staff', undefined, 409);
    expect(typeof conflict.detail).toBe('string');

    expect((await call('DELETE', `/api/categories/${child.json().id}/`, 'staff')).statusCode).toBe(204);
    const del = await call('DELETE', `/api/categories/${c.id}/`, 'staff');
    expect(del.statusCode).toBe(204);
    const left = await queryRows(
      t.deps.db,
      sql`SELECT 1 FROM categories WHERE id IN (${c.id}, ${child.json().id})`,
    );
    expect(left).toEqual([]);
    expect((await call('GET', `/api/categories/${c.id}/`, 'staff')).statusCode).toBe(404);
  });

  it('deleting a category with sub-categories or products is a 409, nothing deleted', async () => {
    for (const slug of ['electronics', 'home', 'audio', 'kitchen', 'archive']) {
      const body = await refused('DELETE', `/api/categories/${categoryIds[slug]!}/`, 'staff', undefined, 409);
      expect(typeof body.detail).toBe('string');
    }
  });

  it('a soft-deleted product: hidden from the public, kept in the database, slug and sku free again', async () => {
    const created = await call('POST', '/api/products/', 'staff', {
      name: 'Soft Delete Me',
      sku: 'SOFT-1',
      price: '3.00',
    });
    expect(created.statusCode, created.body).toBe(201);
    const { id, slug } = created.json();
    expect(slug).toBe('soft-delete-me');
    expect((await call('GET', `/api/products/${slug}/`)).statusCode).toBe(200);
    expect((await walk({ search: 'SOFT-1' }, 'anon')).count).toBe(1);

    const before = await snapshot();
    expect((await call('DELETE', `/api/products/${id}/`, 'staff')).statusCode).toBe(204);
    const after = await snapshot();
    expect(after.products).toBe(before.products);
    expect(after.links).toBe(before.links);

    expect((await call('GET', `/api/products/${id}/`)).statusCode).toBe(404);
    expect((await call('GET', `/api/products/${slug}/`)).statusCode).toBe(404);
    const [row] = await queryRows<{ deleted: boolean; sku: string }>(
      t.deps.db,
      sql`SELECT deleted_at IS NOT NULL AS deleted, sku FROM products WHERE id = ${id}`,
    );
    expect(row).toEqual({ deleted: true, sku: 'SOFT-1' });
    expect((await walk({ search: 'SOFT-1' }, 'anon')).count).toBe(0);
    expect((await walk({ search: 'SOFT-1' }, 'staff')).count).toBe(0);
    const withDeleted = await walk({ search: 'SOFT-1', include_deleted: 'true' }, 'staff');
    expect(withDeleted.items.map((r) => r.id)).toEqual([id]);
    const staffDetail = await call('GET', `/api/products/${id}/`, 'staff');
    expect(staffDetail.statusCode).toBe(200);
    expect(staffDetail.json().deleted_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);

    const again = await call('POST', '/api/products/', 'staff', {
      name: 'Soft Delete Me',
      sku: 'SOFT-1',
      price: '4.00',
    });
    expect(again.statusCode, again.body).toBe(201);
    expect(again.json()).toMatchObject({ slug: 'soft-delete-me', sku: 'SOFT-1', price: '4.00' });
    expect(again.json().id).not.toBe(id);
    expect((await call('GET', `/api/products/soft-delete-me/`)).json().id).toBe(again.json().id);
  });
});

describe('writes: bad bodies are 400 per field and write nothing', () => {
  const long = 'x'.repeat(10_000);
  const product = () => `/api/products/${fx(1).id}/`;
  const variantsOf = () => `/api/products/${fx(1).id}/variants/`;
  const variant = () => `/api/variants/${variantIds['V-1-0']!}/`;
  const REQUIRED = ['This field is required.'];

  type Expect = Record<string, string[]> | string[];
  const cases: Array<[string, Method, () => string, unknown, Expect]> = [
    [
      'product: missing name, sku, price',
      'POST',
      () => '/api/products/',
      {},
      { name: REQUIRED, sku: REQUIRED, price: REQUIRED },
    ],
    [
      'product: missing name',
      'POST',
      () => '/api/products/',
      { sku: 'BAD-1', price: '1.00' },
      { name: REQUIRED },
    ],
    [
      'product: missing sku',
      'POST',
      () => '/api/products/',
      { name: 'Bad', price: '1.00' },
      { sku: REQUIRED },
    ],
    [
      'product: missing price',
      'POST',
      () => '/api/products/',
      { name: 'Bad', sku: 'BAD-1' },
      { price: REQUIRED },
    ],
    [
      'product: price -1',
      'POST',
      () => '/api/products/',
      newProduct({ price: -1 }),
      { price: ['Ensure this value is greater than or equal to 0.'] },
    ],
    [
      'product: price "-1.00"',
      'POST',
      () => '/api/products/',
      newProduct({ price: '-1.00' }),
      { price: ['Ensure this value is greater than or equal to 0.'] },
    ],
    [
      'product: price with 3 decimals',
      'POST',
      () => '/api/products/',
      newProduct({ price: '12.345' }),
      { price: ['Ensure that there are no more than 2 decimal places.'] },
    ],
    ['product: price not a number', 'POST', () => '/api/products/', newProduct({ price: 'abc' }), ['price']],
    ['product: price true', 'POST', () => '/api/products/', newProduct({ price: true }), ['price']],
    ['product: 10,000-character name', 'POST', () => '/api/products/', newProduct({ name: long }), ['name']],
    [
      'product: attributes an array',
      'POST',
      () => '/api/products/',
      newProduct({ attributes: ['red'] }),
      ['attributes'],
    ],
    [
      'product: attributes a string',
      'POST',
      () => '/api/products/',
      newProduct({ attributes: 'red' }),
      ['attributes'],
    ],
    [
      'product: compare_price equal to price',
      'POST',
      () => '/api/products/',
      newProduct({ price: '10.00', compare_price: '10.00' }),
      ['compare_price'],
    ],
    [
      'product: compare_price below price',
      'POST',
      () => '/api/products/',
      newProduct({ price: '10.00', compare_price: 9.99 }),
      ['compare_price'],
    ],
    ['product: duplicate slug', 'POST', () => '/api/products/', newProduct({ slug: 'item-0' }), ['slug']],
    ['product: duplicate sku', 'POST', () => '/api/products/', newProduct({ sku: 'SKU-000' }), ['sku']],
    [
      'product: duplicate slug made from the name',
      'POST',
      () => '/api/products/',
      newProduct({ name: 'Item 0' }),
      ['slug'],
    ],
    ['product: bad slug', 'POST', () => '/api/products/', newProduct({ slug: 'not a slug!' }), ['slug']],
    [
      'product: unknown category slug',
      'POST',
      () => '/api/products/',
      newProduct({ categories: ['audio', 'no-such-category'] }),
      ['categories'],
    ],
    [
      'product: unknown category id',
      'POST',
      () => '/api/products/',
      newProduct({ categories: [randomUUID()] }),
      ['categories'],
    ],
    [
      'product: categories not a list',
      'POST',
      () => '/api/products/',
      newProduct({ categories: 'audio' }),
      ['categories'],
    ],
    ['product: a JSON array body', 'POST', () => '/api/products/', [1, 2], ['non_field_errors']],
    [
      'product PUT: missing fields',
      'PUT',
      product,
      { name: 'Only a name' },
      { sku: REQUIRED, price: REQUIRED },
    ],
    [
      'product PATCH: 3 decimals',
      'PATCH',
      product,
      { price: '1.234' },
      { price: ['Ensure that there are no more than 2 decimal places.'] },
    ],
    [
      'product PATCH: negative price',
      'PATCH',
      product,
      { price: '-0.01' },
      { price: ['Ensure this value is greater than or equal to 0.'] },
    ],
    [
      'product PATCH: compare_price below the current price',
      'PATCH',
      product,
      { compare_price: '0.01' },
      ['compare_price'],
    ],
    ["product PATCH: another product's sku", 'PATCH', product, { sku: 'SKU-000' }, ['sku']],
    ["product PATCH: another product's slug", 'PATCH', product, { slug: 'item-0' }, ['slug']],
    ['product PATCH: 10,000-character name', 'PATCH', product, { name: long }, ['name']],
    ['product PATCH: attributes an array', 'PATCH', product, { attributes: [] }, ['attributes']],
    ['product PATCH: unknown category', 'PATCH', product, { categories: ['nope'] }, ['categories']],
    ['variant: missing fields', 'POST', variantsOf, {}, { name: REQUIRED, sku: REQUIRED, price: REQUIRED }],
    [
      'variant: negative stock',
      'POST',
      variantsOf,
      { name: 'V', sku: 'BAD-V-1', price: '1.00', stock: -1 },
      { stock: ['Ensure this value is greater than or equal to 0.'] },
    ],
    [
      'variant: fractional stock',
      'POST',
      variantsOf,
      { name: 'V', sku: 'BAD-V-1', price: '1.00', stock: 1.5 },
      ['stock'],
    ],
    ['variant: duplicate sku', 'POST', variantsOf, { name: 'V', sku: 'V-2-0', price: '1.00' }, ['sku']],
    [
      'variant: price with 3 decimals',
      'POST',
      variantsOf,
      { name: 'V', sku: 'BAD-V-1', price: '1.001' },
      { price: ['Ensure that there are no more than 2 decimal places.'] },
    ],
    [
      'variant: attributes an array',
      'POST',
      variantsOf,
      { name: 'V', sku: 'BAD-V-1', price: '1', attributes: [1] },
      ['attributes'],
    ],
    [
      'variant PATCH: negative stock',
      'PATCH',
      variant,
      { stock: -5 },
      { stock: ['Ensure this value is greater than or equal to 0.'] },
    ],
    ['variant PATCH: duplicate sku', 'PATCH', variant, { sku: 'V-2-0' }, ['sku']],
    [
      'variant PATCH: negative price',
      'PATCH',
      variant,
      { price: -3 },
      { price: ['Ensure this value is greater than or equal to 0.'] },
    ],
    ['category: missing name', 'POST', () => '/api/categories/', {}, { name: REQUIRED }],
    ['category: 10,000-character name', 'POST', () => '/api/categories/', { name: long }, ['name']],
    [
      'category: unknown parent',
      'POST',
      () => '/api/categories/',
      { name: 'Orphan', parent: randomUUID() },
      ['parent'],
    ],
    [
      'category: malformed parent',
      'POST',
      () => '/api/categories/',
      { name: 'Orphan', parent: 'abc' },
      ['parent'],
    ],
    [
      'category: duplicate slug made from the name',
      'POST',
      () => '/api/categories/',
      { name: 'Audio' },
      ['slug'],
    ],
    [
      'category: duplicate slug',
      'POST',
      () => '/api/categories/',
      { name: 'Sound', slug: 'audio' },
      ['slug'],
    ],
    [
      'category PATCH: own parent',
      'PATCH',
      () => `/api/categories/${categoryIds.electronics!}/`,
      () => ({ parent: categoryIds.electronics }),
      ['parent'],
    ],
    [
      'category PATCH: a cycle',
      'PATCH',
      () => `/api/categories/${categoryIds.electronics!}/`,
      () => ({ parent: categoryIds.audio }),
      ['parent'],
    ],
    [
      'category PATCH: unknown parent',
      'PATCH',
      () => `/api/categories/${categoryIds.audio!}/`,
      { parent: randomUUID() },
      ['parent'],
    ],
    [
      'category PATCH: taken slug',
      'PATCH',
      () => `/api/categories/${categoryIds.audio!}/`,
      { slug: 'phones' },
      ['slug'],
    ],
    [
      'category PUT: missing name',
      'PUT',
      () => `/api/categories/${categoryIds.audio!}/`,
      { slug: 'audio' },
      { name: REQUIRED },
    ],
  ];

  it.each(cases)('%s', async (_title, method, url, payload, expected) => {
    // Payloads naming fixture ids are functions: the ids exist only once beforeAll has run.
    const body = await refused(
      method,
      url(),
      'staff',
      typeof payload === 'function' ? (payload as () => unknown)() : payload,
      400,
    );
    if (Array.isArray(expected)) {
      expect(Object.keys(body).sort()).toEqual([...expected].sort());
      for (const key of expected) {
        expect(Array.isArray(body[key])).toBe(true);
        expect((body[key] as unknown[]).length).toBeGreaterThan(0);
        for (const m of body[key] as unknown[]) expect(typeof m).toBe('string');
      }
    } else {
      expect(body).toEqual(expected);
    }
  });

  it('malformed JSON is a 400, nothing written', async () => {
    const before = await snapshot();
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/products/',
      headers: { ...staff.headers, 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    expect(res.statusCode).toBe(400);
    expect(typeof res.json().detail).toBe('string');
    expect(await snapshot()).toEqual(before);
  });
});

describe('unknown ids are 404', () => {
  const unknown = randomUUID();
  it.each<[Method, () => string, Who, unknown]>([
    ['GET', () => `/api/products/${unknown}/`, 'anon', undefined],
    ['GET', () => `/api/products/${unknown}/`, 'staff', undefined],
    ['GET', () => '/api/products/no-such-product/', 'anon', undefined],
    ['GET', () => '/api/products/not-a-uuid-1234/', 'staff', undefined],
    ['PUT', () => `/api/products/${unknown}/`, 'staff', newProduct()],
    ['PATCH', () => `/api/products/${unknown}/`, 'staff', { name: 'x' }],
    ['PATCH', () => '/api/products/no-such-product/', 'staff', { name: 'x' }],
    ['DELETE', () => `/api/products/${unknown}/`, 'staff', undefined],
    ['DELETE', () => '/api/products/zzz/', 'staff', undefined],
    ['GET', () => `/api/products/${unknown}/variants/`, 'staff', undefined],
    [
      'POST',
      () => `/api/products/${unknown}/variants/`,
      'staff',
      { name: 'V', sku: 'NOPE-V', price: '1.00' },
    ],
    ['PATCH', () => `/api/variants/${unknown}/`, 'staff', { stock: 1 }],
    ['PATCH', () => '/api/variants/not-a-uuid/', 'staff', { stock: 1 }],
    ['DELETE', () => `/api/variants/${unknown}/`, 'staff', undefined],
    ['DELETE', () => '/api/variants/123/', 'staff', undefined],
    // A deleted variant is gone for its routes.
    ['PATCH', () => `/api/variants/${variantIds['V-3-9']!}/`, 'staff', { stock: 1 }],
    ['GET', () => `/api/categories/${unknown}/`, 'anon', undefined],
    ['GET', () => '/api/categories/no-such-category/', 'staff', undefined],
    ['PATCH', () => `/api/categories/${unknown}/`, 'staff', { name: 'x' }],
    ['PUT', () => '/api/categories/no-such-category/', 'staff', { name: 'x' }],
    ['DELETE', () => `/api/categories/${unknown}/`, 'staff', undefined],
    ['DELETE', () => '/api/categories/not-a-uuid/', 'staff', undefined],
  ])('%s %s as %s', async (method, url, who, payload) => {
    const body = await refused(method, url(), who, payload, 404);
    expect(body).toEqual({ detail: 'Not found.' });
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Product detail: a fixed number of queries
// ---------------------------------------------------------------------------------------------

describe('product detail query count', () => {
  it('is the same for 1 and for 50 variants (and small)', async () => {
    const db = t.deps.db;
    const [one, fifty] = await db
      .insert(products)
      .values([
        { name: 'One Variant', slug: 'qc-one', sku: 'QC-ONE', price: '1.00' },
        { name: 'Fifty Variants', slug: 'qc-fifty', sku: 'QC-FIFTY', price: '1.00' },
      ])
      .returning();
    await db.insert(productCategories).values([
      { productId: one!.id, categoryId: categoryIds.audio! },
      { productId: fifty!.id, categoryId: categoryIds.audio! },
      { productId: fifty!.id, categoryId: categoryIds.kitchen! },
    ]);
    await db.insert(variants).values([
      { productId: one!.id, name: 'Only', sku: 'QC-ONE-0', price: '1.00', stock: 1 },
      ...Array.from({ length: 50 }, (_, k) => ({
        productId: fifty!.id,
        name: `V${k}`,
        sku: `QC-FIFTY-${k}`,
        price: '1.00',
        stock: k % 3,
      })),
    ]);

    // The test app's job poller may tick during a request on a loaded machine: its statements
    // are not the request's.
    const requestQueries = () => queries.filter((q) => !/\bjobs\b/.test(q)).length;
    const countFor = async (id: string, variantsExpected: number) => {
      queries.length = 0;
      const res = await call('GET', `/api/products/${id}/`);
      const n = requestQueries();
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().variants).toHaveLength(variantsExpected);
      return n;
    };
    const forOne = await countFor(one!.id, 1);
    const forFifty = await countFor(fifty!.id, 50);
    expect(forOne).toBeGreaterThan(0);
    expect(forFifty).toBe(forOne);
    expect(forOne).toBeLessThanOrEqual(5);
    // By slug too.
    queries.length = 0;
    expect((await call('GET', '/api/products/qc-fifty/')).statusCode).toBe(200);
    expect(requestQueries()).toBe(forOne);
    // Rows written behind the API's back: make cached lists stale for the tests that follow.
    await t.deps.responseCache.invalidate('catalog');
  });
});

// ---------------------------------------------------------------------------------------------
// 5. Cache
// ---------------------------------------------------------------------------------------------

describe('response cache of the product list', () => {
  const get = (url: string, who: Who = 'anon', headers: Record<string, string> = {}) =>
    call('GET', url, who, undefined, headers);

  it('the second identical request is a HIT with the same body; If-None-Match is a 304', async () => {
    const url = '/api/products/?ordering=name&page_size=5&case=hit';
    const first = await get(url);
    expect(first.statusCode).toBe(200);
    expect(first.headers['x-cache']).toBe('MISS');
    const second = await get(url);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.body).toBe(first.body);
    const etag = second.headers.etag as string;
    expect(etag).toBeTruthy();
    expect(first.headers.etag).toBe(etag);
    const notModified = await get(url, 'anon', { 'if-none-match': etag });
    expect(notModified.statusCode).toBe(304);
    expect(notModified.body).toBe('');
    const other = await get(url, 'anon', { 'if-none-match': '"something-else"' });
    expect(other.statusCode).toBe(200);
  });

  it('product detail carries an ETag and answers If-None-Match with 304', async () => {
    const url = `/api/products/${fx(2).id}/`;
    const res = await get(url);
    expect(res.statusCode).toBe(200);
    const etag = res.headers.etag as string;
    expect(etag).toBeTruthy();
    expect((await get(url, 'anon', { 'if-none-match': etag })).statusCode).toBe(304);
  });

  it('staff and public never share an entry', async () => {
    const url = '/api/products/?ordering=price&page_size=100&case=audience';
    const pub1 = await get(url);
    expect(pub1.headers['x-cache']).toBe('MISS');
    const st1 = await get(url, 'staff');
    expect(st1.headers['x-cache']).toBe('MISS');
    const st2 = await get(url, 'staff');
    expect(st2.headers['x-cache']).toBe('HIT');
    const pub2 = await get(url);
    expect(pub2.headers['x-cache']).toBe('HIT');
    const pubBody = pub2.json<PageBody<ListItem>>();
    const stBody = st2.json<PageBody<ListItem>>();
    expect(pubBody.results.every((r) => r.is_active)).toBe(true);
    expect(stBody.results.some((r) => !r.is_active)).toBe(true);
    expect(stBody.count).toBeGreaterThan(pubBody.count);
    // Staff first, then the public, on a fresh URL: still two entries.
    const url2 = '/api/products/?ordering=price&page_size=100&case=audience-2';
    expect((await get(url2, 'staff')).headers['x-cache']).toBe('MISS');
    const pub3 = await get(url2);
    expect(pub3.headers['x-cache']).toBe('MISS');
    expect(pub3.json<PageBody<ListItem>>().results.every((r) => r.is_active)).toBe(true);
  });

  it('a staff edit of one product: the next list request is a MISS showing the change', async () => {
    const url = '/api/products/?ordering=name&page_size=5&case=edit';
    await get(url);
    const cached = await get(url);
    expect(cached.headers['x-cache']).toBe('HIT');
    const first = cached.json<PageBody<ListItem>>().results[0]!;
    const patch = await call('PATCH', `/api/products/${first.id}/`, 'staff', {
      name: '0 Renamed First',
      price: '77.77',
    });
    expect(patch.statusCode, patch.body).toBe(200);
    const after = await get(url);
    expect(after.headers['x-cache']).toBe('MISS');
    const row = after.json<PageBody<ListItem>>().results[0]!;
    expect(row).toMatchObject({ id: first.id, name: '0 Renamed First', price: '77.77' });
    expect((await get(url)).headers['x-cache']).toBe('HIT');
  });

  it('a variant stock change makes the list stale', async () => {
    const p = fx(5); // one active variant, stock 0
    expect(isPublic(p)).toBe(true);
    expect(p.inStock).toBe(false);
    const url = `/api/products/?search=${p.sku}`;
    await get(url);
    const cached = await get(url);
    expect(cached.headers['x-cache']).toBe('HIT');
    expect(cached.json<PageBody<ListItem>>().results.map((r) => [r.id, r.in_stock])).toEqual([[p.id, false]]);
    const res = await call('PATCH', `/api/variants/${variantIds[`V-${p.i}-0`]!}/`, 'staff', { stock: 4 });
    expect(res.statusCode, res.body).toBe(200);
    const after = await get(url);
    expect(after.headers['x-cache']).toBe('MISS');
    expect(after.json<PageBody<ListItem>>().results.map((r) => [r.id, r.in_stock])).toEqual([[p.id, true]]);
  });

  it('a new variant and a deleted product make the list stale', async () => {
    const p = fx(0); // no variants
    const url = `/api/products/?search=${p.sku}&case=variant-create`;
    await get(url);
    expect((await get(url)).headers['x-cache']).toBe('HIT');
    const v = await call('POST', `/api/products/${p.id}/variants/`, 'staff', {
      name: 'New',
      sku: 'CACHE-NEW-V',
      price: '1.00',
      stock: 2,
    });
    expect(v.statusCode, v.body).toBe(201);
    const after = await get(url);
    expect(after.headers['x-cache']).toBe('MISS');
    expect(after.json<PageBody<ListItem>>().results[0]!.in_stock).toBe(true);

    expect((await get(url)).headers['x-cache']).toBe('HIT');
    expect((await call('DELETE', `/api/products/${p.id}/`, 'staff')).statusCode).toBe(204);
    const gone = await get(url);
    expect(gone.headers['x-cache']).toBe('MISS');
    expect(gone.json<PageBody<ListItem>>().count).toBe(0);
  });

  it('a category edit makes the list stale', async () => {
    const url = '/api/products/?category=garden';
    const before = await get(url);
    expect((await get(url)).headers['x-cache']).toBe('HIT');
    const count = before.json<PageBody<ListItem>>().count;
    expect(count).toBeGreaterThan(0);
    const res = await call('PATCH', `/api/categories/${categoryIds.garden!}/`, 'staff', {
      slug: 'garden-renamed',
    });
    expect(res.statusCode, res.body).toBe(200);
    const after = await get(url);
    expect(after.headers['x-cache']).toBe('MISS');
    expect(after.json<PageBody<ListItem>>().count).toBe(0);
    expect((await get('/api/products/?category=garden-renamed')).json<PageBody<ListItem>>().count).toBe(
      count,
    );
    const back = await call('PATCH', `/api/categories/${categoryIds.garden!}/`, 'staff', { slug: 'garden' });
    expect(back.statusCode).toBe(200);
    expect((await get(url)).json<PageBody<ListItem>>().count).toBe(count);
  });

  it('a new product makes the list stale', async () => {
    const url = '/api/products/?search=cache-born&case=create';
    expect((await get(url)).json<PageBody<ListItem>>().count).toBe(0);
    expect((await get(url)).headers['x-cache']).toBe('HIT');
    const res = await call('POST', '/api/products/', 'staff', newProduct({ name: 'Cache-born Product' }));
    expect(res.statusCode, res.body).toBe(201);
    const after = await get(url);
    expect(after.headers['x-cache']).toBe('MISS');
    expect(after.json<PageBody<ListItem>>().count).toBe(1);
  });

  it('a write while the cache store fails still succeeds, with no unhandled rejection', async () => {
    const store = t.deps.cache;
    const incr = store.incr.bind(store);
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => void rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    store.incr = () => Promise.reject(new Error('cache store down'));
    try {
      const res = await call('PATCH', `/api/products/${fx(7).id}/`, 'staff', {
        short_description: 'While down',
      });
      expect(res.statusCode, res.body).toBe(200);
      // A rejection nobody handled is reported once the current turn of the event loop is over.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      store.incr = incr;
      process.off('unhandledRejection', onRejection);
      await t.deps.responseCache.invalidate('catalog');
    }
    expect(rejections).toEqual([]);
  });

  it('with CACHE_ENABLED=false every request is a MISS', async () => {
    const off = await createTestApp({ env: { CACHE_ENABLED: 'false', DEMO_DATA: 'false' } });
    try {
      expect(off.config.cache.enabled).toBe(false);
      await off.deps.db.insert(products).values({ name: 'Only', slug: 'only', sku: 'ONLY', price: '1.00' });
      for (let k = 0; k < 3; k++) {
        const res = await off.app.inject({ method: 'GET', url: '/api/products/' });
        expect(res.statusCode).toBe(200);
        expect(res.headers['x-cache']).toBe('MISS');
        expect(res.json<PageBody<ListItem>>().count).toBe(1);
      }
      // Without the cache, even a write behind the API's back shows at once.
      await off.deps.db.insert(products).values({ name: 'Two', slug: 'two', sku: 'TWO', price: '2.00' });
      const res = await off.app.inject({ method: 'GET', url: '/api/products/' });
      expect(res.headers['x-cache']).toBe('MISS');
      expect(res.json<PageBody<ListItem>>().count).toBe(2);
    } finally {
      await off.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// OpenAPI
// ---------------------------------------------------------------------------------------------

describe('OpenAPI document', () => {
  it('lists the catalog paths', async () => {
    const res = await call('GET', '/api/schema/');
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ paths: Record<string, Record<string, unknown>> }>();
    for (const path of [
      '/api/products/',
      '/api/products/{id}/',
      '/api/products/{id}/variants/',
      '/api/categories/',
      '/api/categories/tree/',
      '/api/categories/{id}/',
      '/api/variants/{id}/',
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    expect(Object.keys(doc.paths['/api/products/']!).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/api/products/{id}/']!).sort()).toEqual(['delete', 'get', 'patch', 'put']);
    expect(Object.keys(doc.paths['/api/variants/{id}/']!).sort()).toEqual(['delete', 'patch']);
  });
});
