/**
 * Issue 9, acceptance 6 (cart routes): who may call what. Anonymous callers get 401 on every route,
 * whatever the body; customers and staff each have a cart of their own; another customer's line is
 * a 404 on PATCH and DELETE. Hostile bodies and ids are 4xx, never 500, and write nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { cartClient, cartRows, makeVariant } from './fixtures.js';

let t: TestApp;
let owner: Record<string, string>;
let stranger: Record<string, string>;
let staff: Record<string, string>;
let variant: string;
let line: string;

beforeAll(async () => {
  t = await createTestApp();
  owner = (await signedInUser(t.app, t.deps)).headers;
  stranger = (await signedInUser(t.app, t.deps)).headers;
  staff = (await signedInUser(t.app, t.deps, { isStaff: true, isSuperuser: true })).headers;
  variant = (await makeVariant(t.deps)).variant.id;
  line = (await cartClient(t.app, owner).add(variant, 1)).json().items[0].id;
});
afterAll(() => t.close());

type Role = 'anonymous' | 'owner' | 'stranger' | 'staff';
const headersOf = (role: Role) => ({ anonymous: {}, owner, stranger, staff })[role] as Record<string, string>;

/** Each route, its request, and the status each role gets. */
const matrix: Array<{
  route: string;
  send: (headers: Record<string, string>) => ReturnType<ReturnType<typeof cartClient>['get']>;
  expected: Record<Role, number>;
}> = [
  {
    route: 'GET /api/cart/',
    send: (h) => cartClient(t.app, h).get(),
    expected: { anonymous: 401, owner: 200, stranger: 200, staff: 200 },
  },
  {
    route: 'POST /api/cart/items/',
    send: (h) => cartClient(t.app, h).add(variant, 1),
    expected: { anonymous: 401, owner: 201, stranger: 201, staff: 201 },
  },
  {
    route: 'PATCH /api/cart/items/<owner’s line>/',
    send: (h) => cartClient(t.app, h).change(line, { quantity: 2 }),
    expected: { anonymous: 401, owner: 200, stranger: 404, staff: 404 },
  },
  {
    route: 'DELETE /api/cart/items/<owner’s line>/',
    send: (h) => cartClient(t.app, h).remove(line),
    expected: { anonymous: 401, owner: 200, stranger: 404, staff: 404 },
  },
];

describe('permissions', () => {
  // The owner goes last, so the line still exists for the others (DELETE removes it).
  for (const role of ['anonymous', 'stranger', 'staff', 'owner'] as Role[]) {
    for (const { route, send, expected } of matrix) {
      it(`${route} as ${role} → ${expected[role]}`, async () => {
        const res = await send(headersOf(role));
        expect(res.statusCode).toBe(expected[role]);
        if (expected[role] === 401)
          expect(res.json()).toEqual({ detail: 'Authentication credentials were not provided.' });
        if (expected[role] === 404) expect(res.json()).toEqual({ detail: 'Not found.' });
        if (expected[role] < 300) expect(res.json()).toHaveProperty('items');
      });
    }
  }

  it('staff see their own cart, not the owner’s', async () => {
    const mine = (await cartClient(t.app, staff).get()).json();
    const owners = (await cartClient(t.app, owner).get()).json();
    expect(mine.id).not.toBe(owners.id);
    expect(mine.items.map((i: { id: string }) => i.id)).not.toContain(line);
  });

  // (A body that is not JSON at all is refused by the parser, which runs before any hook: 400.)
  it('answers 401 to an anonymous caller before validating the body, and writes nothing', async () => {
    const before = await cartRows(t.deps);
    const anonymous = cartClient(t.app);
    for (const res of [
      await anonymous.post({ variant: 'x', quantity: 'many' }),
      await anonymous.post('[]'),
      await anonymous.change('not-an-id', { quantity: -5 }),
      await anonymous.remove('not-an-id'),
    ])
      expect(res.statusCode).toBe(401);
    expect(await cartRows(t.deps)).toEqual(before);
  });

  it('answers 401 to a token that is not valid', async () => {
    const res = await cartClient(t.app, { authorization: 'Bearer a.b.c' }).get();
    expect(res.statusCode).toBe(401);
  });
});

describe('hostile input is a 4xx that writes nothing', () => {
  const V = '00000000-0000-4000-8000-000000000000';
  /** [label, body] pairs; the labels keep the test names short. */
  const quantities: Array<[string, unknown]> = [
    ['quantity null', null],
    ['quantity a numeric string', '3'],
    ['quantity SQL', '1; DROP TABLE carts'],
    ['quantity an object', { n: 1 }],
    ['quantity a list', [1]],
    ['quantity a boolean', true],
    ['quantity 2**63', 2 ** 63],
    ['quantity -0.5', -0.5],
  ];
  const shapes: Array<[string, string]> = [
    ['malformed JSON', '{broken'],
    ['a list', '[]'],
    ['null', 'null'],
    ['a string', '"text"'],
    ['a number', '42'],
    ['quantity 1e309', '{"variant": "' + V + '", "quantity": 1e309}'],
    ['a lone surrogate', '{"variant": "\\ud800", "quantity": "\\ud800"}'],
    ['a NUL', '{"variant": "\\u0000", "quantity": "\\u0000"}'],
    ['JSON nested 100 deep', '{"quantity": ' + '['.repeat(100) + ']'.repeat(100) + '}'],
    ['__proto__ keys', '{"__proto__": {"quantity": 1}, "variant": "' + V + '"}'],
  ];
  const variantsSent: Array<[string, unknown]> = [
    ['variant null', null],
    ['variant a number', 42],
    ['variant a list', ['x']],
    ['variant an operator object', { $ne: null }],
    ['variant 100,000 characters', 'x'.repeat(100_000)],
    ['variant with a NUL', `${V}\u0000`],
  ];

  it.each([
    ...quantities.map(([label, q]): [string, unknown] => [label, { variant: V, quantity: q }]),
    ...variantsSent.map(([label, v]): [string, unknown] => [label, { variant: v, quantity: 1 }]),
    ...shapes,
  ])('POST /api/cart/items/ with %s', async (_, body) => {
    const before = await cartRows(t.deps);
    const res = await cartClient(t.app, owner).post(body);
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(typeof res.json()).toBe('object');
    expect(await cartRows(t.deps)).toEqual(before);
  });

  it.each([
    ...quantities.map(([label, q]): [string, unknown] => [label, { quantity: q }]),
    ['no quantity', { variant: V }],
    ...shapes,
  ])('PATCH /api/cart/items/<line>/ with %s', async (_, body) => {
    const mine = (await cartClient(t.app, owner).add(variant, 1)).json().items[0].id as string;
    const before = await cartRows(t.deps);
    const res = await cartClient(t.app, owner).change(mine, body);
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(typeof res.json()).toBe('object');
    expect(await cartRows(t.deps)).toEqual(before);
  });

  it.each([
    '%00',
    '%E0%A4%A',
    'a'.repeat(600), // over the router's 500 characters
    '..%2F..%2Fetc',
    '00000000-0000-4000-8000-00000000000Z',
    '%7B00000000-0000-4000-8000-000000000000%7D',
    '00000000-0000-4000-8000-000000000000%00',
  ])('PATCH and DELETE /api/cart/items/%#/', async (id) => {
    const before = await cartRows(t.deps);
    for (const res of [
      await cartClient(t.app, owner).change(id, { quantity: 1 }),
      await cartClient(t.app, owner).remove(id),
    ]) {
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
    }
    expect(await cartRows(t.deps)).toEqual(before);
  });

  it('answers 405 to methods the cart routes do not have', async () => {
    const res = await t.app.inject({ method: 'PUT', url: '/api/cart/', headers: owner, payload: {} });
    expect(res.statusCode).toBe(405);
  });
});
