/**
 * SPEC §2: every value a client sends is bounded. Dates the database cannot store, JSON deeper than
 * 32 levels, numbers past their column, and text with NUL or lone surrogates are a 400 on the field,
 * in DRF's words, and nothing is written. Each case here was a 500 before.
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { products } from '../../src/modules/catalog/tables.js';
import { queryRows } from '../../src/platform/db/client.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

const UNSTORABLE_DATES = ['0000-01-01', '10000-01-01', '-000001-01-01', '0001-01-01T00:00:00+01:00'];

/** A body date goes to PostgreSQL as it is: a format that let an unstorable one through would 500. */
function dateProbe(t: () => TestApp) {
  // eslint-disable-next-line @typescript-eslint/require-await
  return async (app: FastifyInstance) => {
    app.post(
      '/probe/dates/',
      {
        schema: {
          body: Type.Object({
            at: Type.Optional(Type.String({ format: 'date-time' })),
            on: Type.Optional(Type.String({ format: 'date' })),
          }),
        },
      },
      async (request) => {
        const { at, on } = request.body as { at?: string; on?: string };
        const [row] = await queryRows<{ at: string | null; on: string | null }>(
          t().deps.db,
          sql`SELECT ${at ?? null}::timestamptz::text AS at, ${on ?? null}::date::text AS on`,
        );
        return row;
      },
    );
  };
}

const nested = (levels: number): Record<string, unknown> => {
  let value: Record<string, unknown> = { leaf: true };
  for (let i = 1; i < levels; i++) value = { deeper: value };
  return value;
};

describe('bounded input', () => {
  let t: TestApp;
  let staff: Record<string, string>;
  beforeAll(async () => {
    t = await createTestApp({ plugins: [dateProbe(() => t)] });
    staff = (await signedInUser(t.app, t.deps, { isStaff: true })).headers;
  });
  afterAll(() => t.close());

  const productCount = async () =>
    (await queryRows<{ n: number }>(t.deps.db, sql`SELECT count(*)::int AS n FROM ${products}`))[0]!.n;

  const createProduct = (fields: Record<string, unknown>) =>
    t.app.inject({
      method: 'POST',
      url: '/api/products/',
      headers: staff,
      payload: { name: 'Bounded', sku: `B-${Math.random().toString(36).slice(2)}`, price: '1.00', ...fields },
    });

  describe('dates', () => {
    it.each(UNSTORABLE_DATES.flatMap((d) => [['created_after', d] as const, ['created_before', d] as const]))(
      'refuses ?%s=%s',
      async (filter, date) => {
        const res = await t.app.inject({
          method: 'GET',
          url: `/api/products/?${filter}=${encodeURIComponent(date)}`,
        });
        expect(res.statusCode).toBe(400);
        expect(res.json()).toEqual({ [filter]: ['Enter a valid date/time.'] });
      },
    );

    it.each([
      '0000-01-01T00:00:00Z',
      '10000-01-01T00:00:00Z',
      '-000001-01-01T00:00:00Z',
      '0001-01-01T00:00:00+01:00',
    ])('refuses a date-time field of %s', async (at) => {
      const res = await t.app.inject({ method: 'POST', url: '/probe/dates/', payload: { at } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ at: ['Datetime has wrong format. Use ISO 8601 (2025-01-31T12:00:00Z).'] });
    });

    it.each(['0000-01-01', '10000-01-01', '-000001-01-01'])('refuses a date field of %s', async (on) => {
      const res = await t.app.inject({ method: 'POST', url: '/probe/dates/', payload: { on } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ on: ['Date has wrong format. Use YYYY-MM-DD.'] });
    });

    it('takes the extremes the database can store', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/probe/dates/',
        payload: { at: '0001-01-01T00:00:00Z', on: '9999-12-31' },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ at: '0001-01-01 00:00:00+00', on: '9999-12-31' });
      const list = await t.app.inject({
        method: 'GET',
        url: '/api/products/?created_after=0001-01-01&created_before=9999-12-31',
      });
      expect(list.statusCode).toBe(200);
    });
  });

  describe('JSON depth', () => {
    it('refuses a 33-level attributes object on the field and writes nothing', async () => {
      const before = await productCount();
      const res = await createProduct({ attributes: nested(33) });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ attributes: ['Ensure this value is nested at most 32 levels deep.'] });
      expect(await productCount()).toBe(before);
    });

    it('takes 32 levels', async () => {
      const res = await createProduct({ attributes: nested(32) });
      expect(res.statusCode).toBe(201);
    });

    it('answers 100,000 levels of nesting at once, with a 400', async () => {
      const deep = '{"name":"x","attributes":' + '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000) + '}';
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/products/',
        headers: { ...staff, 'content-type': 'application/json' },
        payload: deep,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ attributes: ['Ensure this value is nested at most 32 levels deep.'] });
    });
  });

  describe('numbers', () => {
    it.each([
      ['price', '12345678901.00', 'Ensure that there are no more than 8 digits before the decimal point.'],
      ['price', 1e20, 'Ensure that there are no more than 8 digits before the decimal point.'],
      ['weight', '12345.00', 'Ensure that there are no more than 4 digits before the decimal point.'],
    ])('refuses %s = %j past its column', async (field, value, message) => {
      const before = await productCount();
      const res = await createProduct({ [field]: value });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ [field]: [message] });
      expect(await productCount()).toBe(before);
    });

    it('refuses 1e999 (JSON reads it as Infinity)', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/products/',
        headers: { ...staff, 'content-type': 'application/json' },
        payload: '{"name":"x","sku":"INF","price":1e999}',
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ price: ['A valid number is required.'] });
    });

    it('refuses a stock past the integer column', async () => {
      const product = (await createProduct({})).json();
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/products/${product.id}/variants/`,
        headers: staff,
        payload: { name: 'V', sku: `V-${product.id}`, price: '1.00', stock: 2 ** 31 },
      });
      expect(res.statusCode).toBe(400);
      expect(Object.keys(res.json())).toEqual(['stock']);
    });
  });

  describe('text the database cannot store', () => {
    const NUL = 'Null characters are not allowed.';

    it('refuses NUL in a path id', async () => {
      for (const url of ['/api/products/a%00b/', '/api/categories/x%00/', '/api/users/1%00/']) {
        const res = await t.app.inject({ method: 'GET', url, headers: staff });
        expect(res.statusCode, url).toBe(400);
        expect(Object.values(res.json())).toEqual([[NUL]]);
      }
    });

    it('refuses NUL in a search term and a filter', async () => {
      for (const [name, value] of [
        ['search', 'a%00b'],
        ['category', '%00'],
        ['attr.color', 'red%00'],
      ]) {
        const res = await t.app.inject({ method: 'GET', url: `/api/products/?${name}=${value}` });
        expect(res.statusCode, name).toBe(400);
        expect(res.json()).toEqual({ [name!]: [NUL] });
      }
    });

    it.each([
      ['a string field', { name: 'a\u0000b' }, 'name', NUL],
      ['a JSON value', { attributes: { color: 'red\u0000' } }, 'attributes', NUL],
      ['a JSON value in a list', { attributes: { sizes: ['s', 'm\u0000'] } }, 'attributes', NUL],
      ['a lone surrogate', { name: 'a\ud800b' }, 'name', 'Surrogate characters are not allowed: U+D800.'],
      [
        'a lone low surrogate in JSON',
        { dimensions: { w: '\udc01' } },
        'dimensions',
        'Surrogate characters are not allowed: U+DC01.',
      ],
    ])('refuses %s, and writes nothing', async (_what, fields, field, message) => {
      const before = await productCount();
      const res = await createProduct(fields);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ [field]: [message] });
      expect(await productCount()).toBe(before);
    });

    it('refuses NUL in a JSON key', async () => {
      const res = await createProduct({ attributes: { 'co\u0000lor': 'red' } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ attributes: [NUL] });
    });

    it('keeps a well-formed surrogate pair (an emoji)', async () => {
      const res = await createProduct({ name: 'Rocket \ud83d\ude80' });
      expect(res.statusCode).toBe(201);
      expect(res.json().name).toBe('Rocket 🚀');
    });
  });
});
