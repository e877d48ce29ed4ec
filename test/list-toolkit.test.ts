/**
 * Acceptance for SPEC §2 "Lists": pagination, filters, search and ordering, through a probe
 * route built with the list toolkit over a table of the test's own, on the real database.
 */
import { eq, gte, lte, sql } from 'drizzle-orm';
import { boolean, numeric, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';
import type { FastifyInstance, FastifyPluginAsync, LightMyRequestResponse } from 'fastify';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../src/platform/db/client.js';
import { booleanFilter, dateTimeFilter, decimalFilter } from '../src/platform/list/filters.js';
import {
  countAll,
  listPage,
  listQuerySchema,
  type ListQuery,
  type ListSpec,
} from '../src/platform/list/list-query.js';
import { pageSchema } from '../src/platform/list/pagination.js';
import { createTestApp, type TestApp } from './helpers/app.js';

const probeItems = pgTable('probe_items', {
  id: serial('id').primaryKey(),
  name: text('name').notNull(),
  price: numeric('price', { precision: 10, scale: 2 }).notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  isActive: boolean('is_active').notNull(),
});

const spec: ListSpec = {
  filters: {
    min_price: decimalFilter('Lowest price', (v) => gte(probeItems.price, v)),
    max_price: decimalFilter('Highest price', (v) => lte(probeItems.price, v)),
    created_after: dateTimeFilter('Created at or after', (v) => gte(probeItems.createdAt, v)),
    created_before: dateTimeFilter('Created at or before', (v) => lte(probeItems.createdAt, v)),
    is_active: booleanFilter('Active or not', (v) => eq(probeItems.isActive, v)),
  },
  searchFields: [probeItems.name],
  ordering: { price: probeItems.price, name: probeItems.name, created_at: probeItems.createdAt },
  defaultOrdering: '-created_at',
  tieBreaker: probeItems.id,
};

const itemSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  price: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  is_active: Type.Boolean(),
});

interface Item {
  id: number;
  name: string;
  price: string;
  created_at: string;
  is_active: boolean;
}

interface PageBody {
  count: number;
  next: string | null;
  previous: string | null;
  results: Item[];
}

let t: TestApp;
let app: FastifyInstance;
/** How many times the probe list read rows. */
let rowQueries = 0;

const probePlugin: FastifyPluginAsync = async (scope) => {
  scope.get(
    '/probe/items/',
    { schema: { querystring: listQuerySchema(spec), response: { 200: pageSchema(itemSchema) } } },
    (request) =>
      listPage(request, spec, {
        count: async (q: ListQuery) => {
          const [total] = await t.deps.db.select({ count: countAll }).from(probeItems).where(q.where);
          return Number(total?.count ?? 0);
        },
        rows: async (q: ListQuery) => {
          rowQueries++;
          const rows = await t.deps.db
            .select()
            .from(probeItems)
            .where(q.where)
            .orderBy(...q.orderBy)
            .limit(q.limit)
            .offset(q.offset);
          return rows.map((r) => ({
            id: r.id,
            name: r.name,
            price: r.price,
            created_at: r.createdAt.toISOString(),
            is_active: r.isActive,
          }));
        },
      }),
  );
  return Promise.resolve();
};

// 130 rows: only 3 distinct prices, every created_at shared by exactly two rows, ids not in
// price or date order, and a few names with LIKE wildcards in them.
const ROWS = 130;
const PRICES = ['9.99', '19.99', '29.50'] as const;
const ADJECTIVES = ['Red', 'Green', 'Blue', 'Crimson', 'Pale'];
const NOUNS = ['Apple', 'Pear', 'Apple Pie', 'Plum', 'Grape', 'Cherry', 'Melon'];
const BASE = Date.parse('2024-01-01T00:00:00Z');
const HOUR = 3_600_000;

function rowFor(i: number) {
  let name = `${ADJECTIVES[i % 5]!} ${NOUNS[i % 7]!} ${i}`;
  if (i === 10) name = 'Discount 50% off';
  if (i === 11) name = 'snake_case item';
  return {
    name,
    price: PRICES[(i * 5 + Math.floor(i / 4)) % 3]!,
    createdAt: new Date(BASE + ((i * 37) % 65) * 6 * HOUR),
    isActive: i % 4 !== 0,
  };
}

beforeAll(async () => {
  t = await createTestApp({ plugins: [probePlugin] });
  app = t.app;
  await t.deps.db.execute(sql`
    CREATE TABLE probe_items (
      id serial PRIMARY KEY,
      name text NOT NULL,
      price numeric(10, 2) NOT NULL,
      created_at timestamptz NOT NULL,
      is_active boolean NOT NULL
    )`);
  await t.deps.db.insert(probeItems).values(Array.from({ length: ROWS }, (_, i) => rowFor(i)));
});

afterAll(async () => {
  await t?.close();
});

const urlOf = (params: Record<string, string> = {}) => {
  const qs = new URLSearchParams(params).toString();
  return qs ? `/probe/items/?${qs}` : '/probe/items/';
};

async function getPage(params: Record<string, string> = {}): Promise<PageBody> {
  const res = await app.inject({ method: 'GET', url: urlOf(params) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<PageBody>();
}

/** Every page of a list, following `next`; checks each `next` keeps the other parameters. */
async function walk(
  params: Record<string, string>,
): Promise<{ ids: number[]; count: number; pages: number }> {
  const ids: number[] = [];
  let url: string | null = urlOf(params);
  let count = -1;
  let pages = 0;
  while (url !== null) {
    const res: LightMyRequestResponse = await app.inject({ method: 'GET', url });
    expect(res.statusCode, res.body).toBe(200);
    const body: PageBody = res.json<PageBody>();
    if (count === -1) count = body.count;
    expect(body.count).toBe(count);
    ids.push(...body.results.map((r) => r.id));
    pages++;
    expect(pages).toBeLessThan(100);
    if (body.next === null) {
      url = null;
    } else {
      const next: URL = new URL(body.next);
      expect(next.searchParams.get('page')).toBe(String(pages + 1));
      for (const [key, value] of Object.entries(params)) expect(next.searchParams.get(key)).toBe(value);
      url = next.pathname + next.search;
    }
  }
  return { ids, count, pages };
}

const sqlIds = async (query: ReturnType<typeof sql>) =>
  (await queryRows<{ id: number }>(t.deps.db, query)).map((r) => Number(r.id));

describe('pagination', () => {
  it('serves 20 results by default with the right count', async () => {
    const body = await getPage();
    expect(body.count).toBe(ROWS);
    expect(body.results).toHaveLength(20);
    expect(body.previous).toBeNull();
    expect(body.next).not.toBeNull();
    expect(Object.keys(body).sort()).toEqual(['count', 'next', 'previous', 'results']);
    const item = body.results[0]!;
    expect(Object.keys(item).sort()).toEqual(['created_at', 'id', 'is_active', 'name', 'price']);
    expect(Number.isInteger(item.id)).toBe(true);
    expect(typeof item.name).toBe('string');
    expect(item.price).toMatch(/^\d+\.\d{2}$/);
    expect(item.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    expect(typeof item.is_active).toBe('boolean');
  });

  it('caps page_size at 100 (500 is not an error)', async () => {
    const body = await getPage({ page_size: '500' });
    expect(body.count).toBe(ROWS);
    expect(body.results).toHaveLength(100);
    const next = new URL(body.next!);
    expect(next.searchParams.get('page')).toBe('2');
    const second = await getPage({ page_size: '500', page: '2' });
    expect(second.results).toHaveLength(ROWS - 100);
    expect(second.next).toBeNull();
  });

  it('honours a smaller page_size and ignores a malformed one', async () => {
    expect((await getPage({ page_size: '7' })).results).toHaveLength(7);
    expect((await getPage({ page_size: 'abc' })).results).toHaveLength(20);
    expect((await getPage({ page_size: '0' })).results).toHaveLength(20);
  });

  it.each(['0', 'abc', '-1', '1.5', '', '8', '999999'])(
    'answers page=%j with 404 Invalid page.',
    async (page) => {
      // 130 rows at 20 a page: 7 pages, so 8 is past the end.
      const res = await app.inject({ method: 'GET', url: `/probe/items/?page=${page}` });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ detail: 'Invalid page.' });
    },
  );

  it('reads no row for a page past the end', async () => {
    const before = rowQueries;
    const res = await app.inject({ method: 'GET', url: '/probe/items/?page=999999999' });
    expect(res.statusCode).toBe(404);
    expect(rowQueries).toBe(before);
    await getPage({ page: '7' });
    expect(rowQueries).toBe(before + 1);
  });

  it('serves the last page in full and with next null', async () => {
    const body = await getPage({ page: '7' });
    expect(body.results).toHaveLength(ROWS - 6 * 20);
    expect(body.next).toBeNull();
    expect(body.previous).not.toBeNull();
  });

  it('answers page 1 of an empty result with 200 and count 0, page 2 with 404', async () => {
    const body = await getPage({ min_price: '1000' });
    expect(body).toEqual({ count: 0, next: null, previous: null, results: [] });
    const res = await app.inject({ method: 'GET', url: '/probe/items/?min_price=1000&page=2' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ detail: 'Invalid page.' });
  });

  it('gives absolute next/previous URLs that keep the other parameters', async () => {
    const params = { min_price: '19.99', ordering: 'price', page_size: '7' };
    const body = await getPage({ ...params, page: '2' });
    expect(body.next).toMatch(/^http:\/\//);
    expect(body.previous).toMatch(/^http:\/\//);

    const next = new URL(body.next!);
    expect(next.pathname).toBe('/probe/items/');
    expect(Object.fromEntries(next.searchParams)).toEqual({ ...params, page: '3' });

    // Page 2's previous is page 1, which DRF writes without a `page` parameter.
    const previous = new URL(body.previous!);
    expect(previous.pathname).toBe('/probe/items/');
    expect(previous.searchParams.has('page')).toBe(false);
    expect(Object.fromEntries(previous.searchParams)).toEqual(params);

    // Following the links lands on the pages they name.
    const viaNext = await app.inject({ method: 'GET', url: next.pathname + next.search });
    expect(viaNext.json<PageBody>().results).toEqual((await getPage({ ...params, page: '3' })).results);
  });

  it('keeps a search term with spaces and symbols intact in next', async () => {
    const body = await getPage({ search: 'apple pie', page_size: '2' });
    expect(body.count).toBeGreaterThan(2);
    expect(new URL(body.next!).searchParams.get('search')).toBe('apple pie');
  });
});

describe('ordering', () => {
  const allIds = async () => sqlIds(sql`select id from probe_items order by id`);

  it('walks ordering=price (many ties) in pages of 7 without overlap or gap', async () => {
    const { ids, count, pages } = await walk({ ordering: 'price', page_size: '7' });
    expect(count).toBe(ROWS);
    expect(pages).toBe(Math.ceil(ROWS / 7));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort((a, b) => a - b)).toEqual(await allIds());
    expect(ids).toEqual(await sqlIds(sql`select id from probe_items order by price, id`));
  });

  it('orders -price descending, ties by id ascending', async () => {
    const { ids } = await walk({ ordering: '-price', page_size: '7' });
    expect(ids).toEqual(await sqlIds(sql`select id from probe_items order by price desc, id asc`));
    const first = await getPage({ ordering: '-price', page_size: '100' });
    const prices = first.results.map((r) => Number(r.price));
    expect(prices).toEqual([...prices].sort((a, b) => b - a));
  });

  it('orders by several fields', async () => {
    const { ids } = await walk({ ordering: 'price,-created_at', page_size: '9' });
    expect(ids).toEqual(await sqlIds(sql`select id from probe_items order by price, created_at desc, id`));
  });

  it('orders by name with the database collation', async () => {
    const { ids } = await walk({ ordering: 'name', page_size: '50' });
    expect(ids).toEqual(await sqlIds(sql`select id from probe_items order by name, id`));
  });

  it('uses the default ordering (-created_at, then id) when none or only unknown fields are given', async () => {
    const expected = await sqlIds(sql`select id from probe_items order by created_at desc, id`);
    expect((await walk({ page_size: '11' })).ids).toEqual(expected);
    expect((await walk({ ordering: 'bogus', page_size: '11' })).ids).toEqual(expected);
    expect((await walk({ ordering: '-is_active', page_size: '11' })).ids).toEqual(expected);
    expect((await walk({ ordering: '', page_size: '11' })).ids).toEqual(expected);
  });

  it('ignores unknown fields among known ones', async () => {
    const { ids } = await walk({ ordering: 'bogus,-price,id;drop', page_size: '50' });
    expect(ids).toEqual(await sqlIds(sql`select id from probe_items order by price desc, id`));
  });
});

describe('filters', () => {
  const defaultOrder = sql`order by created_at desc, id`;
  const cases: Array<[string, Record<string, string>, ReturnType<typeof sql>]> = [
    ['min_price', { min_price: '19.99' }, sql`price >= 19.99`],
    ['max_price', { max_price: '19.99' }, sql`price <= 19.99`],
    ['a price range', { min_price: '10', max_price: '29.5' }, sql`price >= 10 and price <= 29.50`],
    ['created_after', { created_after: '2024-01-08T12:00:00Z' }, sql`created_at >= '2024-01-08T12:00:00Z'`],
    [
      'created_before (a bare date is midnight UTC)',
      { created_before: '2024-01-05' },
      sql`created_at <= '2024-01-05T00:00:00Z'`,
    ],
    [
      'created_after with an offset',
      { created_after: '2024-01-08T14:00:00+02:00' },
      sql`created_at >= '2024-01-08T12:00:00Z'`,
    ],
    ['is_active=true', { is_active: 'true' }, sql`is_active`],
    ['is_active=1', { is_active: '1' }, sql`is_active`],
    ['is_active=false', { is_active: 'false' }, sql`not is_active`],
    ['is_active=0', { is_active: '0' }, sql`not is_active`],
    ['is_active=TRUE', { is_active: 'TRUE' }, sql`is_active`],
    [
      'all at once',
      {
        min_price: '19.99',
        max_price: '19.99',
        created_after: '2024-01-03',
        created_before: '2024-01-12T06:00:00Z',
        is_active: '1',
      },
      sql`price = 19.99 and created_at >= '2024-01-03T00:00:00Z' and created_at <= '2024-01-12T06:00:00Z' and is_active`,
    ],
  ];

  it.each(cases)('%s: same rows as the SQL', async (_label, params, where) => {
    const expected = await sqlIds(sql`select id from probe_items where ${where} ${defaultOrder}`);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(ROWS);
    const { ids, count } = await walk({ ...params, page_size: '25' });
    expect(count).toBe(expected.length);
    expect(ids).toEqual(expected);
  });

  it('ignores an empty filter value', async () => {
    expect((await getPage({ min_price: '', is_active: '' })).count).toBe(ROWS);
  });

  it('answers a malformed decimal with 400 naming the parameter', async () => {
    const res = await app.inject({ method: 'GET', url: '/probe/items/?min_price=abc' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ min_price: ['Enter a number.'] });
  });

  it('answers a malformed date-time with 400 naming the parameter', async () => {
    const res = await app.inject({ method: 'GET', url: '/probe/items/?created_after=yesterday' });
    expect(res.statusCode).toBe(400);
    const body = res.json<Record<string, string[]>>();
    expect(Object.keys(body)).toEqual(['created_after']);
    expect(body.created_after).toEqual([expect.any(String)]);
  });

  it('answers a malformed boolean with 400 naming the parameter', async () => {
    const res = await app.inject({ method: 'GET', url: '/probe/items/?is_active=maybe' });
    expect(res.statusCode).toBe(400);
    const body = res.json<Record<string, string[]>>();
    expect(Object.keys(body)).toEqual(['is_active']);
    expect(body.is_active).toEqual([expect.any(String)]);
  });

  it('names every malformed parameter at once', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/probe/items/?max_price=1e5&created_before=2024-13-45&page=2',
    });
    expect(res.statusCode).toBe(400);
    const body = res.json<Record<string, string[]>>();
    expect(Object.keys(body).sort()).toEqual(['created_before', 'max_price']);
    expect(body.max_price).toEqual(['Enter a number.']);
  });

  it('answers a repeated filter parameter with 400, not 500', async () => {
    const res = await app.inject({ method: 'GET', url: '/probe/items/?min_price=1&min_price=2' });
    expect(res.statusCode).toBe(400);
    expect(Object.keys(res.json<Record<string, unknown>>())).toEqual(['min_price']);
  });
});

describe('search', () => {
  const searchIds = async (params: Record<string, string>) =>
    (await walk({ ...params, page_size: '100' })).ids;
  const byDefaultOrder = (where: ReturnType<typeof sql>) =>
    sqlIds(sql`select id from probe_items where ${where} order by created_at desc, id`);

  it('matches a case-insensitive substring', async () => {
    const expected = await byDefaultOrder(sql`lower(name) like '%apple%'`);
    expect(expected.length).toBeGreaterThan(1);
    expect(await searchIds({ search: 'APPLE' })).toEqual(expected);
    expect(await searchIds({ search: 'aPpL' })).toEqual(expected);
  });

  it('requires every term (AND), each anywhere in the name', async () => {
    const either = await byDefaultOrder(sql`lower(name) like '%red%' or lower(name) like '%pie%'`);
    const both = await byDefaultOrder(sql`lower(name) like '%red%' and lower(name) like '%pie%'`);
    expect(both.length).toBeGreaterThan(0);
    expect(both.length).toBeLessThan(either.length);
    expect(await searchIds({ search: 'pie red' })).toEqual(both);
    // A `+` in the raw query string is a space too.
    const res = await app.inject({ method: 'GET', url: '/probe/items/?search=pie+RED&page_size=100' });
    expect(res.json<PageBody>().results.map((r) => r.id)).toEqual(both);
    for (const item of res.json<PageBody>().results) {
      expect(item.name.toLowerCase()).toContain('red');
      expect(item.name.toLowerCase()).toContain('pie');
    }
  });

  it('matches % and _ literally', async () => {
    const percent = await getPage({ search: '%' });
    expect(percent.count).toBe(1);
    expect(percent.results.map((r) => r.name)).toEqual(['Discount 50% off']);

    expect((await getPage({ search: '50%' })).results.map((r) => r.name)).toEqual(['Discount 50% off']);

    const underscore = await getPage({ search: '_' });
    expect(underscore.results.map((r) => r.name)).toEqual(['snake_case item']);

    // `e_c` would match "e c" (and more) if `_` were a wildcard.
    expect((await getPage({ search: 'e_c' })).results.map((r) => r.name)).toEqual(['snake_case item']);
    expect((await getPage({ search: '\\' })).count).toBe(0);
  });

  it('finds nothing for an absent term (200, count 0) and everything for a blank search', async () => {
    expect(await getPage({ search: 'zzz-no-such-thing' })).toEqual({
      count: 0,
      next: null,
      previous: null,
      results: [],
    });
    expect((await getPage({ search: '   ' })).count).toBe(ROWS);
  });

  it('combines search with filters and ordering', async () => {
    const expected = await sqlIds(
      sql`select id from probe_items where lower(name) like '%apple%' and price >= 19.99 order by price desc, id`,
    );
    const { ids } = await walk({ search: 'apple', min_price: '19.99', ordering: '-price', page_size: '4' });
    expect(ids).toEqual(expected);
  });
});

describe('OpenAPI', () => {
  it('documents the list parameters of the probe route', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/schema/' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{
      paths: Record<string, { get?: { parameters?: Array<{ name: string; in: string }> } }>;
    }>();
    const path = doc.paths['/probe/items/'];
    expect(path?.get).toBeDefined();
    const names = (path!.get!.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'page',
        'page_size',
        'min_price',
        'max_price',
        'created_after',
        'created_before',
        'is_active',
        'search',
        'ordering',
      ]),
    );
  });
});
