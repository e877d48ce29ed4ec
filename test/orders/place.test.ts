/**
 * SPEC §5 checkout, `POST /api/orders/`: the order's shape, money, stock taken whole or not at all
 * (nothing written on a refusal), the cart emptied, and bad bodies refused.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/platform/db/client.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { ADDRESS, makeVariant, orderBody, placeOrder, stockOf } from '../helpers/commerce.js';

describe('placing an order', () => {
  let t: TestApp;
  let customer: Awaited<ReturnType<typeof signedInUser>>;
  beforeAll(async () => {
    t = await createTestApp({ env: { TAX_RATE: '0.08' } });
    customer = await signedInUser(t.app, t.deps);
  });
  afterAll(() => t.close());

  const counts = async () => {
    const [row] = await queryRows<{ orders: number; lines: number; history: number; jobs: number }>(
      t.deps.db,
      sql`SELECT (SELECT count(*)::int FROM orders) AS orders, (SELECT count(*)::int FROM order_lines) AS lines,
                 (SELECT count(*)::int FROM order_history) AS history,
                 (SELECT count(*)::int FROM jobs WHERE name = 'send_order_confirmation') AS jobs`,
    );
    return row!;
  };

  it('orders items: 201 with the SPEC shape, snapshots, totals, a first history row, the stock taken', async () => {
    const { variant, product } = await makeVariant(t.deps, { stock: 5, price: '12.50' });
    const res = await placeOrder(t.app, customer.headers, {
      items: [{ variant: variant.id, quantity: 2 }],
      notes: 'ring twice',
    });
    expect(res.statusCode).toBe(201);
    const order = res.json();
    expect(order).toMatchObject({
      user: customer.user.id,
      status: 'pending',
      subtotal: '25.00',
      discount_amount: '0.00',
      tax_amount: '2.00',
      shipping_amount: '5.00',
      total_amount: '32.00',
      currency: 'USD',
      coupon_code: null,
      billing_first_name: 'Ada',
      billing_email: 'ada@example.com',
      billing_phone: '',
      billing_address: ADDRESS,
      shipping_first_name: 'Ada',
      shipping_last_name: 'Lovelace',
      shipping_address: ADDRESS,
      notes: 'ring twice',
    });
    expect(order.order_number).toMatch(/^NX-[2-9A-HJKMNP-TV-Z]{6}$/);
    expect(order.items).toEqual([
      {
        id: expect.any(String),
        product_variant: variant.id,
        product: product.id,
        name: `${product.name} — ${variant.name}`,
        sku: variant.sku,
        quantity: 2,
        unit_price: '12.50',
        total_price: '25.00',
      },
    ]);
    expect(order.history).toEqual([
      { from: null, to: 'pending', at: expect.any(String), by: customer.user.id, reason: 'order placed' },
    ]);
    expect(await stockOf(t.deps, variant.id)).toBe(3);
  });

  it('keeps the snapshot when the catalog changes afterwards', async () => {
    const { variant } = await makeVariant(t.deps, { price: '3.00' });
    const order = (
      await placeOrder(t.app, customer.headers, { items: [{ variant: variant.id, quantity: 1 }] })
    ).json();
    await t.deps.db.execute(
      sql`UPDATE product_variants SET price = 99, name = 'Renamed' WHERE id = ${variant.id}`,
    );
    const again = (
      await t.app.inject({ method: 'GET', url: `/api/orders/${order.id}/`, headers: customer.headers })
    ).json();
    expect(again.items[0]).toMatchObject({ unit_price: '3.00', sku: variant.sku });
    expect(again.items[0].name).not.toContain('Renamed');
  });

  it('sums several lines of one variant, and refuses 6 + 6 of 10 whole, writing nothing', async () => {
    const { variant } = await makeVariant(t.deps, { stock: 10 });
    const before = await counts();
    const res = await placeOrder(t.app, customer.headers, {
      items: [
        { variant: variant.id, quantity: 6 },
        { variant: variant.id, quantity: 6 },
      ],
    });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({
      detail: 'Not enough stock.',
      variants: [{ variant: variant.id, requested: 12, available: 10 }],
    });
    expect(await counts()).toEqual(before);
    expect(await stockOf(t.deps, variant.id)).toBe(10);
  });

  it('names every short variant, and leaves a fillable one untouched', async () => {
    const fillable = (await makeVariant(t.deps, { stock: 5 })).variant;
    const short = (await makeVariant(t.deps, { stock: 1 })).variant;
    const empty = (await makeVariant(t.deps, { stock: 0 })).variant;
    const before = await counts();
    const res = await placeOrder(t.app, customer.headers, {
      items: [
        { variant: fillable.id, quantity: 2 },
        { variant: short.id, quantity: 3 },
        { variant: empty.id, quantity: 1 },
      ],
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().variants).toEqual(
      expect.arrayContaining([
        { variant: short.id, requested: 3, available: 1 },
        { variant: empty.id, requested: 1, available: 0 },
      ]),
    );
    expect(res.json().variants).toHaveLength(2);
    expect(await stockOf(t.deps, fillable.id)).toBe(5);
    expect(await counts()).toEqual(before);
  });

  it('ships digital-only orders free and needs no shipping address for them', async () => {
    const { variant } = await makeVariant(t.deps, { isDigital: true, price: '9.99' });
    const body = orderBody({ items: [{ variant: variant.id, quantity: 1 }] });
    delete (body as Record<string, unknown>).shipping_address;
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/orders/',
      headers: customer.headers,
      payload: body,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      shipping_amount: '0.00',
      shipping_address: null,
      tax_amount: '0.80',
      total_amount: '10.79',
    });
  });

  it('needs a shipping address for physical items', async () => {
    const { variant } = await makeVariant(t.deps);
    const body = orderBody({ items: [{ variant: variant.id, quantity: 1 }] });
    delete (body as Record<string, unknown>).shipping_address;
    const before = await counts();
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/orders/',
      headers: customer.headers,
      payload: body,
    });
    expect(res.statusCode).toBe(400);
    expect(Object.keys(res.json())).toEqual(['shipping_address']);
    expect(await counts()).toEqual(before);
    expect(await stockOf(t.deps, variant.id)).toBe(100);
  });

  it('ships free at the threshold', async () => {
    const { variant } = await makeVariant(t.deps, { price: '25.00' });
    const order = (
      await placeOrder(t.app, customer.headers, { items: [{ variant: variant.id, quantity: 2 }] })
    ).json();
    expect(order).toMatchObject({
      subtotal: '50.00',
      shipping_amount: '0.00',
      tax_amount: '4.00',
      total_amount: '54.00',
    });
  });

  const addToCart = (headers: Record<string, string>, variant: string, quantity: number) =>
    t.app.inject({ method: 'POST', url: '/api/cart/items/', headers, payload: { variant, quantity } });

  it('checks out the cart and empties it; `items` leaves the cart alone', async () => {
    const buyer = await signedInUser(t.app, t.deps);
    const a = (await makeVariant(t.deps, { price: '4.00', stock: 9 })).variant;
    const b = (await makeVariant(t.deps, { price: '6.00', stock: 9 })).variant;
    expect((await addToCart(buyer.headers, a.id, 2)).statusCode).toBe(201);
    expect((await addToCart(buyer.headers, b.id, 1)).statusCode).toBe(201);

    const viaItems = await placeOrder(t.app, buyer.headers, { items: [{ variant: a.id, quantity: 1 }] });
    expect(viaItems.statusCode).toBe(201);
    const cartAfterItems = (
      await t.app.inject({ method: 'GET', url: '/api/cart/', headers: buyer.headers })
    ).json();
    expect(cartAfterItems.items).toHaveLength(2);

    const res = await placeOrder(t.app, buyer.headers);
    expect(res.statusCode).toBe(201);
    expect(
      res
        .json()
        .items.map((l: { sku: string; quantity: number }) => [l.sku, l.quantity])
        .sort(),
    ).toEqual(
      [
        [a.sku, 2],
        [b.sku, 1],
      ].sort(),
    );
    expect(res.json()).toMatchObject({ subtotal: '14.00', tax_amount: '1.12' });
    const cart = (await t.app.inject({ method: 'GET', url: '/api/cart/', headers: buyer.headers })).json();
    expect(cart.items).toEqual([]);
    expect(await stockOf(t.deps, a.id)).toBe(6);
    expect((await placeOrder(t.app, buyer.headers)).statusCode).toBe(400);
  });

  it('refuses a cart holding a line that became unavailable with a 409, writing nothing', async () => {
    const buyer = await signedInUser(t.app, t.deps);
    const ok = (await makeVariant(t.deps)).variant;
    const gone = (await makeVariant(t.deps)).variant;
    await addToCart(buyer.headers, ok.id, 1);
    await addToCart(buyer.headers, gone.id, 1);
    await t.deps.db.execute(sql`UPDATE product_variants SET is_active = false WHERE id = ${gone.id}`);
    const before = await counts();
    const res = await placeOrder(t.app, buyer.headers);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({
      detail: 'Some items in your cart are no longer available; remove them first.',
      unavailable: [gone.id],
    });
    expect(await counts()).toEqual(before);
    expect(await stockOf(t.deps, ok.id)).toBe(100);
    const cart = (await t.app.inject({ method: 'GET', url: '/api/cart/', headers: buyer.headers })).json();
    expect(cart.items).toHaveLength(2);
  });

  it('refuses an empty cart with a 400', async () => {
    const someone = await signedInUser(t.app, t.deps);
    const res = await placeOrder(t.app, someone.headers);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ non_field_errors: ['Your cart is empty.'] });
  });

  it('refuses unknown, inactive and deleted variants in items with a 400, writing nothing', async () => {
    const inactive = (await makeVariant(t.deps)).variant;
    const deleted = (await makeVariant(t.deps)).variant;
    const hidden = await makeVariant(t.deps);
    await t.deps.db.execute(sql`UPDATE product_variants SET is_active = false WHERE id = ${inactive.id}`);
    await t.deps.db.execute(sql`UPDATE product_variants SET deleted_at = now() WHERE id = ${deleted.id}`);
    await t.deps.db.execute(sql`UPDATE products SET is_active = false WHERE id = ${hidden.product.id}`);
    const before = await counts();
    for (const id of ['00000000-0000-4000-8000-000000000000', inactive.id, deleted.id, hidden.variant.id]) {
      const res = await placeOrder(t.app, customer.headers, { items: [{ variant: id, quantity: 1 }] });
      expect(res.statusCode, id).toBe(400);
      expect(res.json()).toEqual({ items: [`Variant ${id} does not exist or is not available.`] });
    }
    expect(await counts()).toEqual(before);
  });

  it.each([
    ['no body', undefined],
    ['an array', []],
    ['a missing billing e-mail', { ...orderBody(), billing_email: undefined }],
    ['a bad e-mail', orderBody({ billing_email: 'nope' })],
    ['an empty address', orderBody({ billing_address: {} })],
    ['an address that is a string', orderBody({ billing_address: 'Main St' })],
    ['quantity 0', orderBody({ items: [{ variant: '00000000-0000-4000-8000-000000000000', quantity: 0 }] })],
    [
      'quantity 1001',
      orderBody({ items: [{ variant: '00000000-0000-4000-8000-000000000000', quantity: 1001 }] }),
    ],
    [
      'quantity "3"',
      orderBody({ items: [{ variant: '00000000-0000-4000-8000-000000000000', quantity: '3' }] }),
    ],
    ['a malformed variant', orderBody({ items: [{ variant: 'abc', quantity: 1 }] })],
    ['no items', orderBody({ items: [] })],
    ['an unknown field', orderBody({ status: 'delivered' })],
  ])('refuses %s with a 400 and writes nothing', async (_what, payload) => {
    const before = await counts();
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/orders/',
      headers: customer.headers,
      payload: payload as object,
    });
    expect(res.statusCode).toBe(400);
    expect(await counts()).toEqual(before);
  });

  it('answers anonymous callers 401', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/orders/', payload: orderBody() });
    expect(res.statusCode).toBe(401);
  });

  it('schedules exactly one confirmation job with the order', async () => {
    const { variant } = await makeVariant(t.deps);
    const before = await counts();
    const order = (
      await placeOrder(t.app, customer.headers, { items: [{ variant: variant.id, quantity: 1 }] })
    ).json();
    const after = await counts();
    expect(after).toEqual({
      orders: before.orders + 1,
      lines: before.lines + 1,
      history: before.history + 1,
      jobs: before.jobs + 1,
    });
    const [job] = await queryRows<{ payload: { order_id: string } }>(
      t.deps.db,
      sql`SELECT payload FROM jobs WHERE name = 'send_order_confirmation' ORDER BY id DESC LIMIT 1`,
    );
    expect(job!.payload).toEqual({ order_id: order.id });
  });
});
