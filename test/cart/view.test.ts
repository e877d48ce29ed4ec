/**
 * Issue 9, acceptance 1 (cart shapes): `GET /api/cart/` makes the cart on first use, answers SPEC
 * §5's shape, and reads it in a fixed number of queries whatever the number of lines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { cartClient, cartRows, makeVariant, UUID } from './fixtures.js';

let t: TestApp;
const queries: string[] = [];

beforeAll(async () => {
  t = await createTestApp({ onQuery: (q) => void queries.push(q) });
});
afterAll(() => t.close());

describe('GET /api/cart/', () => {
  it('makes an empty cart on first use, in SPEC §5’s shape, and keeps it', async () => {
    const { user, headers } = await signedInUser(t.app, t.deps);
    const first = await cartClient(t.app, headers).get();
    expect(first.statusCode).toBe(200);
    const body = first.json();
    expect(Object.keys(body)).toEqual([
      'id',
      'items',
      'coupon',
      'subtotal',
      'discount_amount',
      'tax_amount',
      'shipping_amount',
      'total_amount',
      'item_count',
      'updated_at',
    ]);
    expect(body).toMatchObject({
      items: [],
      coupon: null,
      subtotal: '0.00',
      discount_amount: '0.00',
      tax_amount: '0.00',
      // An empty cart has no line to ship.
      shipping_amount: '0.00',
      total_amount: '0.00',
      item_count: 0,
    });
    expect(body.id).toMatch(UUID);
    expect(new Date(body.updated_at).toISOString()).toBe(body.updated_at);

    const again = await cartClient(t.app, headers).get();
    expect(again.json()).toEqual(body);
    const stored = (await cartRows(t.deps)).carts.filter((c) => c.userId === user.id);
    expect(stored.map((c) => c.id)).toEqual([body.id]);
  });

  it('answers a line in SPEC §5’s shape', async () => {
    const { headers } = await signedInUser(t.app, t.deps);
    const { product, variant } = await makeVariant(t.deps, { price: '19.99', name: 'Large / Blue' });
    const cart = cartClient(t.app, headers);
    await cart.add(variant.id, 2);
    const body = (await cart.get()).json();
    expect(body.items).toEqual([
      {
        id: expect.stringMatching(UUID),
        variant: {
          id: variant.id,
          sku: variant.sku,
          name: 'Large / Blue',
          price: '19.99',
          product: { id: product.id, name: product.name, slug: product.slug },
        },
        quantity: 2,
        unit_price: '19.99',
        line_total: '39.98',
        available: true,
      },
    ]);
    expect(body).toMatchObject({ subtotal: '39.98', shipping_amount: '5.00', total_amount: '44.98' });
    expect(body.item_count).toBe(2);
  });

  it('answers 401 to an anonymous caller and makes no cart', async () => {
    const before = await cartRows(t.deps);
    const res = await cartClient(t.app).get();
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ detail: 'Authentication credentials were not provided.' });
    expect(await cartRows(t.deps)).toEqual(before);
  });

  it('gives staff a cart of their own', async () => {
    const customer = await signedInUser(t.app, t.deps);
    const staff = await signedInUser(t.app, t.deps, { isStaff: true });
    const { variant } = await makeVariant(t.deps);
    await cartClient(t.app, customer.headers).add(variant.id, 1);
    const res = await cartClient(t.app, staff.headers).get();
    expect(res.statusCode).toBe(200);
    expect(res.json().items).toEqual([]);
    expect(res.json().id).not.toBe((await cartClient(t.app, customer.headers).get()).json().id);
  });

  it('lists lines in the order they were added', async () => {
    const { headers } = await signedInUser(t.app, t.deps);
    const cart = cartClient(t.app, headers);
    const made = [];
    for (let i = 0; i < 4; i++) {
      const { variant } = await makeVariant(t.deps);
      made.push(variant.id);
      expect((await cart.add(variant.id, 1)).statusCode).toBe(201);
    }
    // Adding to the first line again does not move it.
    await cart.add(made[0], 1);
    const items = (await cart.get()).json().items as Array<{ variant: { id: string } }>;
    expect(items.map((i) => i.variant.id)).toEqual(made);
  });

  it('reads a cart in the same number of queries for 1 line and for 30', async () => {
    const count = async (lines: number) => {
      const { headers } = await signedInUser(t.app, t.deps);
      const cart = cartClient(t.app, headers);
      for (let i = 0; i < lines; i++) await cart.add((await makeVariant(t.deps)).variant.id, 1);
      queries.length = 0;
      const res = await cart.get();
      expect(res.json().items).toHaveLength(lines);
      // Only the cart's own statements: the cart with its lines (one join) and their variants. The
      // authenticator's look-up of the user comes on top, and the job poller of this test app may
      // tick during the request (it did on a loaded CI machine).
      return queries.filter((q) => /cart_lines|"carts"|product_variants/i.test(q)).length;
    };
    const one = await count(1);
    expect(one).toBe(2);
    expect(await count(30)).toBe(one);
  });
});
