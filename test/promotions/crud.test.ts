/**
 * SPEC §6, the staff CRUD of coupons (`POST /api/coupons/`, `GET|PUT|PATCH|DELETE /api/coupons/<id>/`):
 * the answer's shape; every field's validation in DRF's `{"field": ["message"]}` shape, all bad
 * fields reported at once, and the row a create or an edit would leave checked as a whole (a PATCH of
 * `kind` alone must fit the stored `value`, one of `ends_at` the stored `starts_at`); codes unique
 * case-insensitively; `times_used` read-only; odd ids a 404; who may call what; and a delete refused
 * (409) once an order has used the coupon, while one on a cart only just leaves the cart. Every
 * refusal leaves the coupons table as it was.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { carts } from '../../src/modules/cart/tables.js';
import { coupons } from '../../src/modules/promotions/tables.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeVariant, placeOrder } from '../helpers/commerce.js';
import { couponState, makeCoupon } from '../helpers/promotions.js';

let t: TestApp;
let staff: Record<string, string>;
let customer: Record<string, string>;
beforeAll(async () => {
  t = await createTestApp();
  staff = (await signedInUser(t.app, t.deps, { isStaff: true })).headers;
  customer = (await signedInUser(t.app, t.deps)).headers;
});
afterAll(() => t.close());

let n = 0;
/** A code no other test uses (upper case, so its lower-case twin is "another case"). */
const uniqueCode = (prefix = 'CRUD') =>
  `${prefix}${++n}${Math.random().toString(36).slice(2, 7)}`.toUpperCase();

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const send = (method: Method, url: string, headers: Record<string, string>, payload?: unknown) =>
  t.app.inject({
    method,
    url,
    headers: payload === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    payload: payload === undefined ? undefined : JSON.stringify(payload),
  });
const detail = (id: number | string) => `/api/coupons/${id}/`;

/** Every coupon row as stored, for "the table is as it was". */
const table = () => t.deps.db.select().from(coupons).orderBy(coupons.id);

const validBody = (extra: Record<string, unknown> = {}) => ({
  code: uniqueCode(),
  kind: 'percent',
  value: '10.00',
  ...extra,
});

const NOT_FOUND = { detail: 'Not found.' };
const PATTERN = 'Use letters, digits, hyphens and underscores only, starting with a letter or digit.';
const REQUIRED = 'This field is required.';
const TAKEN = 'coupon with this code already exists.';
const POSITIVE = 'Ensure this value is greater than 0.';
const AT_MOST_100 = 'A percent coupon takes at most 100 (%).';
const TWO_PLACES = 'Ensure that there are no more than 2 decimal places.';
const NOT_A_NUMBER = 'A valid number is required.';
const NOT_NEGATIVE = 'Ensure this value is greater than or equal to 0.';
const AFTER_START = 'Must be after starts_at.';
const LIMIT_MIN = 'Ensure this value is greater than or equal to 1.';
const NOT_INTEGER = 'A valid integer is required.';

describe('create: POST /api/coupons/', () => {
  it('answers 201 with the SPEC fields and their defaults, stores the row, and reads it back', async () => {
    const code = uniqueCode();
    const res = await send('POST', '/api/coupons/', staff, { code, kind: 'percent', value: '12.5' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toEqual({
      id: expect.any(Number),
      code,
      kind: 'percent',
      value: '12.50',
      min_subtotal: '0.00',
      starts_at: null,
      ends_at: null,
      max_uses: null,
      max_uses_per_user: null,
      is_active: true,
      times_used: 0,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    const { coupon } = await couponState(t.deps, body.id);
    expect(coupon).toMatchObject({
      code,
      kind: 'percent',
      value: '12.50',
      minSubtotal: '0.00',
      timesUsed: 0,
    });
    const read = await send('GET', detail(body.id), staff);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(body);
  });

  it('takes every optional field: numbers or numeric strings, times in any offset answered in UTC', async () => {
    const code = uniqueCode();
    const res = await send('POST', '/api/coupons/', staff, {
      code,
      kind: 'fixed',
      value: 7.5,
      min_subtotal: '25',
      starts_at: '2030-01-01T02:00:00+02:00',
      ends_at: '2030-02-01T00:00:00Z',
      max_uses: 100,
      max_uses_per_user: 1,
      is_active: false,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      code,
      kind: 'fixed',
      value: '7.50',
      min_subtotal: '25.00',
      starts_at: '2030-01-01T00:00:00.000Z',
      ends_at: '2030-02-01T00:00:00.000Z',
      max_uses: 100,
      max_uses_per_user: 1,
      is_active: false,
      times_used: 0,
    });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['percent 100', { kind: 'percent', value: 100 }, '100.00'],
    ['percent "100.00"', { kind: 'percent', value: '100.00' }, '100.00'],
    ['percent 0.01', { kind: 'percent', value: 0.01 }, '0.01'],
    ['fixed 0.01', { kind: 'fixed', value: 0.01 }, '0.01'],
    ['fixed 150 (over 100 is fine for a fixed amount)', { kind: 'fixed', value: 150 }, '150.00'],
    ['fixed "99999999.99" (the column’s largest)', { kind: 'fixed', value: '99999999.99' }, '99999999.99'],
  ])('accepts %s', async (_, fields, stored) => {
    const res = await send('POST', '/api/coupons/', staff, validBody(fields));
    expect(res.statusCode).toBe(201);
    expect(res.json().value).toBe(stored);
  });

  it.each<[string, Record<string, unknown>, Record<string, string[]>]>([
    ['code missing', { code: undefined }, { code: [REQUIRED] }],
    ['code empty', { code: '' }, { code: ['This field may not be blank.'] }],
    [
      'code of 51 characters',
      { code: 'A'.repeat(51) },
      { code: ['Ensure this field has no more than 50 characters.'] },
    ],
    ['code with a space', { code: 'SAVE 10' }, { code: [PATTERN] }],
    ['code with a leading space', { code: ' SAVE10' }, { code: [PATTERN] }],
    ['code starting with a hyphen', { code: '-SAVE10' }, { code: [PATTERN] }],
    ['code with punctuation', { code: 'SAVE10!' }, { code: [PATTERN] }],
    ['code with accents', { code: 'ÉTÉ10' }, { code: [PATTERN] }],
    ['code a number', { code: 10 }, { code: ['Not a valid string.'] }],
    ['kind missing', { kind: undefined }, { kind: [REQUIRED] }],
    ['kind unknown', { kind: 'bogo' }, { kind: ['This is not a valid choice.'] }],
    ['kind in capitals', { kind: 'PERCENT' }, { kind: ['This is not a valid choice.'] }],
    ['kind null', { kind: null }, { kind: ['This field may not be null.'] }],
    ['value missing', { value: undefined }, { value: [REQUIRED] }],
    ['value null', { value: null }, { value: ['This field may not be null.'] }],
    ['percent value 0', { kind: 'percent', value: 0 }, { value: [POSITIVE] }],
    ['percent value 100.01', { kind: 'percent', value: 100.01 }, { value: [AT_MOST_100] }],
    ['percent value "100.01"', { kind: 'percent', value: '100.01' }, { value: [AT_MOST_100] }],
    ['percent value 150', { kind: 'percent', value: 150 }, { value: [AT_MOST_100] }],
    ['fixed value 0', { kind: 'fixed', value: 0 }, { value: [POSITIVE] }],
    ['fixed value "0.00"', { kind: 'fixed', value: '0.00' }, { value: [POSITIVE] }],
    ['value with 3 decimals (string)', { kind: 'fixed', value: '1.234' }, { value: [TWO_PLACES] }],
    ['value with 3 decimals (number)', { kind: 'fixed', value: 1.234 }, { value: [TWO_PLACES] }],
    ['value not a number', { value: 'ten' }, { value: [NOT_A_NUMBER] }],
    ['value empty', { value: '' }, { value: [NOT_A_NUMBER] }],
    [
      'value over the column',
      { kind: 'fixed', value: 1e12 },
      { value: ['Ensure that there are no more than 8 digits before the decimal point.'] },
    ],
    ['min_subtotal negative', { min_subtotal: -1 }, { min_subtotal: [NOT_NEGATIVE] }],
    ['min_subtotal "-0.01"', { min_subtotal: '-0.01' }, { min_subtotal: [NOT_NEGATIVE] }],
    ['min_subtotal not a number', { min_subtotal: 'lots' }, { min_subtotal: [NOT_A_NUMBER] }],
    ['min_subtotal in exponent form', { min_subtotal: '1e3' }, { min_subtotal: [NOT_A_NUMBER] }],
    ['min_subtotal with 3 decimals', { min_subtotal: '1.001' }, { min_subtotal: [TWO_PLACES] }],
    ['min_subtotal null', { min_subtotal: null }, { min_subtotal: ['This field may not be null.'] }],
    [
      'ends_at equal to starts_at',
      { starts_at: '2030-01-01T00:00:00Z', ends_at: '2030-01-01T00:00:00Z' },
      { ends_at: [AFTER_START] },
    ],
    [
      'ends_at before starts_at',
      { starts_at: '2030-01-01T00:00:00Z', ends_at: '2029-12-31T23:59:59Z' },
      { ends_at: [AFTER_START] },
    ],
    [
      'ends_at the same instant in another offset',
      { starts_at: '2030-01-01T00:00:00Z', ends_at: '2030-01-01T02:00:00+02:00' },
      { ends_at: [AFTER_START] },
    ],
    [
      'starts_at not a date',
      { starts_at: 'tomorrow' },
      { starts_at: ['Datetime has wrong format. Use ISO 8601 (2025-01-31T12:00:00Z).'] },
    ],
    ['max_uses 0', { max_uses: 0 }, { max_uses: [LIMIT_MIN] }],
    ['max_uses -1', { max_uses: -1 }, { max_uses: [LIMIT_MIN] }],
    ['max_uses "3"', { max_uses: '3' }, { max_uses: [NOT_INTEGER] }],
    ['max_uses 1.5', { max_uses: 1.5 }, { max_uses: [NOT_INTEGER] }],
    [
      'max_uses 2**31',
      { max_uses: 2 ** 31 },
      { max_uses: ['Ensure this value is less than or equal to 2147483647.'] },
    ],
    ['max_uses_per_user 0', { max_uses_per_user: 0 }, { max_uses_per_user: [LIMIT_MIN] }],
    ['max_uses_per_user -1', { max_uses_per_user: -1 }, { max_uses_per_user: [LIMIT_MIN] }],
    ['max_uses_per_user "3"', { max_uses_per_user: '3' }, { max_uses_per_user: [NOT_INTEGER] }],
    ['is_active "yes"', { is_active: 'yes' }, { is_active: ['Must be a valid boolean.'] }],
  ])('refuses %s: 400 on that field, nothing written', async (_, fields, errors) => {
    const before = await table();
    const res = await send('POST', '/api/coupons/', staff, validBody(fields));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(errors);
    expect(await table()).toEqual(before);
  });

  it('refuses a percent value of -1 on `value`', async () => {
    // The wording is the decimal parser's (">= 0"); the SPEC only fixes the field and the rule (> 0).
    const before = await table();
    const res = await send('POST', '/api/coupons/', staff, validBody({ kind: 'percent', value: -1 }));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ value: [expect.stringMatching(/^Ensure this value is greater than/)] });
    expect(await table()).toEqual(before);
  });

  it.each([
    ['a list', '[]'],
    ['null', 'null'],
    ['malformed JSON', '{"code": '],
  ])('refuses a body that is %s with a 400', async (_, raw) => {
    const before = await table();
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/coupons/',
      headers: { ...staff, 'content-type': 'application/json' },
      payload: raw,
    });
    expect(res.statusCode).toBe(400);
    expect(await table()).toEqual(before);
  });

  it('reports every bad field of the schema at once', async () => {
    const before = await table();
    const res = await send('POST', '/api/coupons/', staff, {
      code: '',
      kind: 'bogo',
      max_uses: 0,
      max_uses_per_user: '3',
      is_active: 'yes',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      code: ['This field may not be blank.'],
      kind: ['This is not a valid choice.'],
      value: [REQUIRED],
      max_uses: [LIMIT_MIN],
      max_uses_per_user: [NOT_INTEGER],
      is_active: ['Must be a valid boolean.'],
    });
    expect(await table()).toEqual(before);
  });

  it('reports every bad amount and the window at once', async () => {
    const before = await table();
    const res = await send('POST', '/api/coupons/', staff, {
      code: uniqueCode(),
      kind: 'fixed',
      value: '1.234',
      min_subtotal: -5,
      starts_at: '2030-01-01T00:00:00Z',
      ends_at: '2029-01-01T00:00:00Z',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      value: [TWO_PLACES],
      min_subtotal: [NOT_NEGATIVE],
      ends_at: [AFTER_START],
    });
    expect(await table()).toEqual(before);
  });

  it('reports a bad amount together with a bad code (every field at once, as DRF does)', async () => {
    const before = await table();
    const res = await send('POST', '/api/coupons/', staff, {
      code: 'BAD CODE',
      kind: 'fixed',
      value: '1.234',
      min_subtotal: -5,
      max_uses: 0,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      code: [PATTERN],
      value: [TWO_PLACES],
      min_subtotal: [NOT_NEGATIVE],
      max_uses: [LIMIT_MIN],
    });
    expect(await table()).toEqual(before);
  });

  it('refuses a code that exists in another case (SAVE10 vs save10) on `code`', async () => {
    const code = uniqueCode('SAVE');
    expect((await send('POST', '/api/coupons/', staff, validBody({ code }))).statusCode).toBe(201);
    const before = await table();
    for (const twin of [code.toLowerCase(), code, `${code[0]}${code.slice(1).toLowerCase()}`]) {
      const res = await send('POST', '/api/coupons/', staff, validBody({ code: twin }));
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ code: [TAKEN] });
    }
    expect(await table()).toEqual(before);
  });

  it('keeps times_used read-only: a times_used sent is ignored (DRF ignores read-only fields), the coupon starts at 0', async () => {
    // removeAdditional (src/app.ts) strips fields a body schema does not declare before validation.
    const res = await send('POST', '/api/coupons/', staff, validBody({ times_used: 42 }));
    expect(res.statusCode).toBe(201);
    expect(res.json().times_used).toBe(0);
    expect((await couponState(t.deps, res.json().id)).coupon.timesUsed).toBe(0);
  });

  it('ignores an unknown field (DRF ignores them), storing nothing of it', async () => {
    const res = await send('POST', '/api/coupons/', staff, validBody({ discount: 99, id: 1 }));
    expect(res.statusCode).toBe(201);
    expect(res.json()).not.toHaveProperty('discount');
    expect(res.json().value).toBe('10.00');
  });
});

describe('read: GET /api/coupons/<id>/', () => {
  it('answers the coupon as stored', async () => {
    const c = await makeCoupon(t.deps, {
      kind: 'fixed',
      value: '4.50',
      minSubtotal: '20.00',
      startsAt: new Date('2030-03-01T00:00:00Z'),
      endsAt: new Date('2030-04-01T00:00:00Z'),
      maxUses: 10,
      maxUsesPerUser: 2,
      isActive: false,
      timesUsed: 3,
    });
    const res = await send('GET', detail(c.id), staff);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      id: c.id,
      code: c.code,
      kind: 'fixed',
      value: '4.50',
      min_subtotal: '20.00',
      starts_at: '2030-03-01T00:00:00.000Z',
      ends_at: '2030-04-01T00:00:00.000Z',
      max_uses: 10,
      max_uses_per_user: 2,
      is_active: false,
      times_used: 3,
      created_at: c.createdAt.toISOString(),
    });
  });

  const odd = [
    ['an unknown id', '2147483000'],
    ['"abc"', 'abc'],
    ['"0"', '0'],
    ['a 20-digit id', '12345678901234567890'],
    ['one past the int column', '2147483648'],
    ['"-1"', '-1'],
    ['"1.0"', '1.0'],
    ['"1e3"', '1e3'],
    ['a SQL fragment', '1%20OR%201%3D1'],
  ];

  it.each(odd)('answers 404 to %s on every detail route, writing nothing', async (_, id) => {
    const before = await table();
    for (const [method, payload] of [
      ['GET', undefined],
      ['PUT', validBody()],
      ['PATCH', { is_active: false }],
      ['DELETE', undefined],
    ] as const) {
      const res = await send(method, detail(id), staff, payload);
      expect(res.statusCode, `${method} ${id}`).toBe(404);
      expect(res.json()).toEqual(NOT_FOUND);
    }
    expect(await table()).toEqual(before);
  });

  it('answers 404 to a deleted coupon', async () => {
    const c = await makeCoupon(t.deps);
    await t.deps.db.delete(coupons).where(eq(coupons.id, c.id));
    expect((await send('GET', detail(c.id), staff)).statusCode).toBe(404);
  });
});

describe('replace: PUT /api/coupons/<id>/', () => {
  it('replaces the fields sent, keeping id, created_at and times_used', async () => {
    const c = await makeCoupon(t.deps, { timesUsed: 2, maxUses: 10 });
    const code = uniqueCode();
    const res = await send('PUT', detail(c.id), staff, {
      code,
      kind: 'fixed',
      value: '15',
      min_subtotal: '40.00',
      starts_at: '2030-01-01T00:00:00Z',
      ends_at: '2031-01-01T00:00:00Z',
      max_uses: null,
      max_uses_per_user: 3,
      is_active: false,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      id: c.id,
      code,
      kind: 'fixed',
      value: '15.00',
      min_subtotal: '40.00',
      starts_at: '2030-01-01T00:00:00.000Z',
      ends_at: '2031-01-01T00:00:00.000Z',
      max_uses: null,
      max_uses_per_user: 3,
      is_active: false,
      times_used: 2,
      created_at: c.createdAt.toISOString(),
    });
    expect((await couponState(t.deps, c.id)).coupon).toMatchObject({ code, kind: 'fixed', value: '15.00' });
  });

  it('keeps the optional fields it is not sent (as a DRF update does)', async () => {
    const c = await makeCoupon(t.deps, { maxUses: 5, minSubtotal: '30.00', isActive: false });
    const res = await send('PUT', detail(c.id), staff, { code: c.code, kind: 'percent', value: 20 });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      value: '20.00',
      max_uses: 5,
      min_subtotal: '30.00',
      is_active: false,
    });
  });

  it('needs code, kind and value', async () => {
    const c = await makeCoupon(t.deps);
    const before = await table();
    const res = await send('PUT', detail(c.id), staff, { is_active: false });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ code: [REQUIRED], kind: [REQUIRED], value: [REQUIRED] });
    expect(await table()).toEqual(before);
  });

  it.each<[string, Record<string, unknown>, Record<string, string[]>]>([
    ['percent over 100', { kind: 'percent', value: 150 }, { value: [AT_MOST_100] }],
    ['fixed 0', { kind: 'fixed', value: 0 }, { value: [POSITIVE] }],
    [
      'a window that ends first',
      { starts_at: '2030-01-02T00:00:00Z', ends_at: '2030-01-01T00:00:00Z' },
      { ends_at: [AFTER_START] },
    ],
    ['max_uses 0', { max_uses: 0 }, { max_uses: [LIMIT_MIN] }],
  ])('refuses %s, leaving the coupon as it was', async (_, fields, errors) => {
    const c = await makeCoupon(t.deps);
    const before = await table();
    const res = await send('PUT', detail(c.id), staff, {
      code: c.code,
      kind: 'percent',
      value: 10,
      ...fields,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(errors);
    expect(await table()).toEqual(before);
  });

  it('refuses another coupon’s code in another case on `code`', async () => {
    const taken = await makeCoupon(t.deps, { code: uniqueCode('SAVE') });
    const c = await makeCoupon(t.deps);
    const before = await table();
    const res = await send('PUT', detail(c.id), staff, {
      code: taken.code.toLowerCase(),
      kind: 'percent',
      value: 10,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ code: [TAKEN] });
    expect(await table()).toEqual(before);
  });
});

describe('edit: PATCH /api/coupons/<id>/', () => {
  it('changes only the fields sent', async () => {
    const c = await makeCoupon(t.deps, { kind: 'fixed', value: '5.00', maxUses: 3 });
    const res = await send('PATCH', detail(c.id), staff, { is_active: false });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      code: c.code,
      kind: 'fixed',
      value: '5.00',
      max_uses: 3,
      is_active: false,
    });
    const { coupon } = await couponState(t.deps, c.id);
    expect({ ...coupon, updatedAt: c.updatedAt }).toEqual({ ...c, isActive: false });
  });

  it('answers an empty PATCH with the coupon unchanged', async () => {
    const c = await makeCoupon(t.deps);
    const res = await send('PATCH', detail(c.id), staff, {});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: c.id, code: c.code, value: '10.00' });
  });

  it('refuses kind alone to percent when the stored fixed value is 150: 400 on `value`', async () => {
    const c = await makeCoupon(t.deps, { kind: 'fixed', value: '150.00' });
    const before = await table();
    const res = await send('PATCH', detail(c.id), staff, { kind: 'percent' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ value: [AT_MOST_100] });
    expect(await table()).toEqual(before);
  });

  it('accepts kind to percent with a value that fits, sent together', async () => {
    const c = await makeCoupon(t.deps, { kind: 'fixed', value: '150.00' });
    const res = await send('PATCH', detail(c.id), staff, { kind: 'percent', value: '50' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ kind: 'percent', value: '50.00' });
  });

  it('refuses value alone over 100 on a stored percent coupon', async () => {
    const c = await makeCoupon(t.deps, { kind: 'percent', value: '10.00' });
    const before = await table();
    const res = await send('PATCH', detail(c.id), staff, { value: '100.01' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ value: [AT_MOST_100] });
    expect(await table()).toEqual(before);
  });

  it.each([
    ['before', '2029-06-01T00:00:00Z'],
    ['equal to', '2030-01-01T00:00:00Z'],
  ])('refuses ends_at alone %s the stored starts_at: 400 on `ends_at`', async (_, endsAt) => {
    const c = await makeCoupon(t.deps, { startsAt: new Date('2030-01-01T00:00:00Z') });
    const before = await table();
    const res = await send('PATCH', detail(c.id), staff, { ends_at: endsAt });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ ends_at: [AFTER_START] });
    expect(await table()).toEqual(before);
  });

  it('refuses starts_at alone after the stored ends_at: 400 on `ends_at`', async () => {
    const c = await makeCoupon(t.deps, { endsAt: new Date('2030-01-01T00:00:00Z') });
    const before = await table();
    const res = await send('PATCH', detail(c.id), staff, { starts_at: '2030-06-01T00:00:00Z' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ ends_at: [AFTER_START] });
    expect(await table()).toEqual(before);
  });

  it('accepts ends_at alone after the stored starts_at, and null to clear either end', async () => {
    const c = await makeCoupon(t.deps, { startsAt: new Date('2030-01-01T00:00:00Z') });
    const later = await send('PATCH', detail(c.id), staff, { ends_at: '2030-01-01T00:00:01Z' });
    expect(later.statusCode).toBe(200);
    expect(later.json()).toMatchObject({
      starts_at: '2030-01-01T00:00:00.000Z',
      ends_at: '2030-01-01T00:00:01.000Z',
    });
    const cleared = await send('PATCH', detail(c.id), staff, { starts_at: null });
    expect(cleared.statusCode).toBe(200);
    expect(cleared.json()).toMatchObject({ starts_at: null, ends_at: '2030-01-01T00:00:01.000Z' });
  });

  it.each<[string, Record<string, unknown>, Record<string, string[]>]>([
    ['code null', { code: null }, { code: ['This field may not be null.'] }],
    ['code empty', { code: '' }, { code: ['This field may not be blank.'] }],
    ['code with a space', { code: 'A B' }, { code: [PATTERN] }],
    ['kind unknown', { kind: 'bogo' }, { kind: ['This is not a valid choice.'] }],
    ['value null', { value: null }, { value: ['This field may not be null.'] }],
    ['value 0', { value: 0 }, { value: [POSITIVE] }],
    ['value with 3 decimals', { value: '2.345' }, { value: [TWO_PLACES] }],
    ['min_subtotal negative', { min_subtotal: '-1' }, { min_subtotal: [NOT_NEGATIVE] }],
    ['max_uses 0', { max_uses: 0 }, { max_uses: [LIMIT_MIN] }],
    ['max_uses -1', { max_uses: -1 }, { max_uses: [LIMIT_MIN] }],
    ['max_uses "3"', { max_uses: '3' }, { max_uses: [NOT_INTEGER] }],
    ['max_uses_per_user 0', { max_uses_per_user: 0 }, { max_uses_per_user: [LIMIT_MIN] }],
    ['max_uses_per_user -1', { max_uses_per_user: -1 }, { max_uses_per_user: [LIMIT_MIN] }],
    ['max_uses_per_user "3"', { max_uses_per_user: '3' }, { max_uses_per_user: [NOT_INTEGER] }],
  ])('refuses %s, leaving the coupon as it was', async (_, patch, errors) => {
    const c = await makeCoupon(t.deps, { kind: 'fixed', value: '5.00' });
    const before = await table();
    const res = await send('PATCH', detail(c.id), staff, patch);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(errors);
    expect(await table()).toEqual(before);
  });

  it('reports every bad field of a PATCH at once, amounts included', async () => {
    const c = await makeCoupon(t.deps, { kind: 'fixed', value: '5.00' });
    const before = await table();
    const res = await send('PATCH', detail(c.id), staff, {
      kind: 'x',
      max_uses: '3',
      value: 0,
      min_subtotal: 'x',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      kind: ['This is not a valid choice.'],
      max_uses: [NOT_INTEGER],
      value: [POSITIVE],
      min_subtotal: [NOT_A_NUMBER],
    });
    expect(await table()).toEqual(before);
  });

  it('refuses another coupon’s code in another case on `code`, and takes its own in another case', async () => {
    const taken = await makeCoupon(t.deps, { code: uniqueCode('SAVE') });
    const c = await makeCoupon(t.deps, { code: uniqueCode('SAVE') });
    const before = await table();
    const res = await send('PATCH', detail(c.id), staff, { code: taken.code.toLowerCase() });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ code: [TAKEN] });
    expect(await table()).toEqual(before);
    const own = await send('PATCH', detail(c.id), staff, { code: c.code.toLowerCase() });
    expect(own.statusCode).toBe(200);
    expect(own.json().code).toBe(c.code.toLowerCase());
  });

  it('allows max_uses under times_used (the coupon is then used up; no use is taken back)', async () => {
    const c = await makeCoupon(t.deps, { maxUses: 10, timesUsed: 4 });
    const res = await send('PATCH', detail(c.id), staff, { max_uses: 2 });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ max_uses: 2, times_used: 4 });
  });

  it('keeps times_used read-only: a times_used sent is ignored, the stored count stays', async () => {
    const c = await makeCoupon(t.deps, { timesUsed: 2 });
    for (const method of ['PATCH', 'PUT'] as const) {
      const res = await send(method, detail(c.id), staff, {
        code: c.code,
        kind: 'percent',
        value: 10,
        times_used: 0,
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().times_used).toBe(2);
    }
    expect((await couponState(t.deps, c.id)).coupon.timesUsed).toBe(2);
  });
});

describe('delete: DELETE /api/coupons/<id>/', () => {
  const orderedItems = async (code: string) => {
    const { variant } = await makeVariant(t.deps, { price: '20.00' });
    const buyer = await signedInUser(t.app, t.deps);
    const order = await placeOrder(t.app, buyer.headers, {
      items: [{ variant: variant.id, quantity: 1 }],
      coupon: code,
    });
    expect(order.statusCode).toBe(201);
    expect(order.json().coupon_code).toBe(code);
    return { buyer, order: order.json() };
  };
  const USED = {
    detail: 'Orders have used this coupon, so it cannot be deleted; deactivate it instead.',
  };

  it('deletes a coupon no order used: 204, no body, then gone', async () => {
    const c = await makeCoupon(t.deps);
    const res = await send('DELETE', detail(c.id), staff);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(await t.deps.db.select().from(coupons).where(eq(coupons.id, c.id))).toEqual([]);
    expect((await send('GET', detail(c.id), staff)).statusCode).toBe(404);
    expect((await send('DELETE', detail(c.id), staff)).statusCode).toBe(404);
  });

  it('refuses (409) a coupon an items order used, and keeps it with its use', async () => {
    const c = await makeCoupon(t.deps);
    await orderedItems(c.code);
    const before = await couponState(t.deps, c.id);
    expect(before.coupon.timesUsed).toBe(1);
    const res = await send('DELETE', detail(c.id), staff);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual(USED);
    expect(await couponState(t.deps, c.id)).toEqual(before);
    expect((await send('GET', detail(c.id), staff)).json()).toMatchObject({ id: c.id, times_used: 1 });
  });

  it('refuses (409) a coupon a cart checkout used', async () => {
    const c = await makeCoupon(t.deps);
    const { variant } = await makeVariant(t.deps, { price: '20.00' });
    const buyer = await signedInUser(t.app, t.deps);
    const add = await t.app.inject({
      method: 'POST',
      url: '/api/cart/items/',
      headers: buyer.headers,
      payload: { variant: variant.id, quantity: 1 },
    });
    expect(add.statusCode).toBe(201);
    const apply = await t.app.inject({
      method: 'POST',
      url: '/api/cart/coupon/',
      headers: buyer.headers,
      payload: { code: c.code },
    });
    expect(apply.statusCode).toBe(200);
    const order = await placeOrder(t.app, buyer.headers);
    expect(order.statusCode).toBe(201);
    expect(order.json()).toMatchObject({ coupon_code: c.code, discount_amount: '2.00' });
    const before = await couponState(t.deps, c.id);
    const res = await send('DELETE', detail(c.id), staff);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual(USED);
    expect(await couponState(t.deps, c.id)).toEqual(before);
  });

  it('still refuses (409) once the order that used it is cancelled: the released use stays on record', async () => {
    const c = await makeCoupon(t.deps);
    const { buyer, order } = await orderedItems(c.code);
    const cancel = await t.app.inject({
      method: 'POST',
      url: `/api/orders/${order.id}/cancel/`,
      headers: buyer.headers,
      payload: {},
    });
    expect(cancel.statusCode).toBe(200);
    const before = await couponState(t.deps, c.id);
    expect(before.coupon.timesUsed).toBe(0);
    expect(before.redemptions.map((r) => r.state)).toEqual(['released']);
    const res = await send('DELETE', detail(c.id), staff);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual(USED);
    expect(await couponState(t.deps, c.id)).toEqual(before);
  });

  it('deletes a coupon applied to a cart with no order yet: 204, and the cart shows coupon null', async () => {
    const c = await makeCoupon(t.deps);
    const { variant } = await makeVariant(t.deps, { price: '20.00' });
    const buyer = await signedInUser(t.app, t.deps);
    await t.app.inject({
      method: 'POST',
      url: '/api/cart/items/',
      headers: buyer.headers,
      payload: { variant: variant.id, quantity: 1 },
    });
    const apply = await t.app.inject({
      method: 'POST',
      url: '/api/cart/coupon/',
      headers: buyer.headers,
      payload: { code: c.code },
    });
    expect(apply.statusCode).toBe(200);
    expect(apply.json()).toMatchObject({
      coupon: { code: c.code, kind: 'percent', value: '10.00' },
      discount_amount: '2.00',
    });
    const res = await send('DELETE', detail(c.id), staff);
    expect(res.statusCode).toBe(204);
    const cart = await t.app.inject({ method: 'GET', url: '/api/cart/', headers: buyer.headers });
    expect(cart.statusCode).toBe(200);
    expect(cart.json()).toMatchObject({ coupon: null, subtotal: '20.00', discount_amount: '0.00' });
    expect(cart.json().items).toHaveLength(1);
    const [row] = await t.deps.db.select().from(carts).where(eq(carts.id, cart.json().id));
    expect(row!.couponId).toBeNull();
  });
});

describe('permissions: staff only, on every route', () => {
  type Role = 'anonymous' | 'customer' | 'staff';
  const headersOf = (role: Role) => ({ anonymous: {}, customer, staff })[role];

  /** Each route with a request on a coupon of its own, and what staff get. */
  const routes: Array<{
    route: string;
    call: (h: Record<string, string>, id: number) => ReturnType<typeof send>;
    ok: number;
  }> = [
    { route: 'GET /api/coupons/', call: (h) => send('GET', '/api/coupons/', h), ok: 200 },
    { route: 'GET /api/coupons/<id>/', call: (h, id) => send('GET', detail(id), h), ok: 200 },
    { route: 'POST /api/coupons/', call: (h) => send('POST', '/api/coupons/', h, validBody()), ok: 201 },
    {
      route: 'PUT /api/coupons/<id>/',
      call: (h, id) => send('PUT', detail(id), h, validBody({ kind: 'fixed', value: 3 })),
      ok: 200,
    },
    {
      route: 'PATCH /api/coupons/<id>/',
      call: (h, id) => send('PATCH', detail(id), h, { is_active: false }),
      ok: 200,
    },
    { route: 'DELETE /api/coupons/<id>/', call: (h, id) => send('DELETE', detail(id), h), ok: 204 },
  ];

  const expected: Record<Role, (ok: number) => number> = {
    anonymous: () => 401,
    customer: () => 403,
    staff: (ok) => ok,
  };

  for (const role of ['anonymous', 'customer', 'staff'] as Role[]) {
    for (const { route, call, ok } of routes) {
      it(`${route} as ${role} → ${expected[role](ok)}`, async () => {
        const c = await makeCoupon(t.deps);
        const before = await table();
        const res = await call(headersOf(role), c.id);
        expect(res.statusCode).toBe(expected[role](ok));
        if (role === 'anonymous') {
          expect(res.json()).toEqual({ detail: 'Authentication credentials were not provided.' });
        } else if (role === 'customer') {
          expect(res.json()).toEqual({ detail: 'You do not have permission to perform this action.' });
        }
        if (role !== 'staff') expect(await table()).toEqual(before);
      });
    }
  }

  it('answers 401 and 403 before looking at the body or the id', async () => {
    const before = await table();
    for (const [role, status] of [
      ['anonymous', 401],
      ['customer', 403],
    ] as const) {
      for (const res of [
        await send('POST', '/api/coupons/', headersOf(role), { code: '', kind: 'x', value: -1 }),
        await send('PUT', detail('abc'), headersOf(role), { code: '' }),
        await send('PATCH', detail('2147483000'), headersOf(role), { value: 'x' }),
        await send('DELETE', detail('0'), headersOf(role)),
        await send('GET', '/api/coupons/?is_active=maybe', headersOf(role)),
      ])
        expect(res.statusCode).toBe(status);
    }
    expect(await table()).toEqual(before);
  });

  it('answers 401 to a token that is not valid', async () => {
    const res = await send('GET', '/api/coupons/', { authorization: 'Bearer a.b.c' });
    expect(res.statusCode).toBe(401);
  });
});
