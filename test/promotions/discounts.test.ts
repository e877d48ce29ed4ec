/**
 * Issue 10 (coupon discounts), SPEC §5 Pricing: the numbers a coupon makes, read from the cart and
 * from the order placed from that cart, which must agree to the cent. A percent discount is rounded
 * half-up at the half cent (cases where banker's rounding or binary floating point would differ),
 * also for a value with decimals; a fixed discount never exceeds the subtotal (the total never goes
 * negative); tax is on the discounted amount; free shipping is judged on subtotal − discount, and a
 * digital-only cart ships free. The order carries `coupon_code` as stored and `discount_amount`, and
 * its confirmation e-mail shows them. An `items` order takes a `coupon` of its own; `coupon` with a
 * cart checkout is a 400, and an unknown code on an `items` order a 409 `coupon_invalid` that
 * writes nothing.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deps } from '../../src/deps.js';
import { queryRows } from '../../src/platform/db/client.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeVariant, orderBody, placeOrder, stockOf } from '../helpers/commerce.js';
import { settleJobs } from '../helpers/jobs.js';
import { couponState, makeCoupon } from '../helpers/promotions.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js';
import { cartClient, cartRows } from '../cart/fixtures.js';

const AMOUNTS = ['subtotal', 'discount_amount', 'tax_amount', 'shipping_amount', 'total_amount'] as const;
type Amounts = Record<(typeof AMOUNTS)[number], string>;
const amountsOf = (body: Record<string, unknown>) =>
  Object.fromEntries(AMOUNTS.map((k) => [k, body[k]])) as Amounts;

let tag = 0;
const freshCode = (stem = 'Deal') => `${stem}${++tag}x${Math.random().toString(36).slice(2, 8)}`;

interface Line {
  price: string;
  quantity?: number;
  isDigital?: boolean;
}

/**
 * A new customer's cart of `lines` with `coupon` applied: the cart's amounts, then the order placed
 * from that cart, whose amounts must be the cart's.
 */
async function quoteThenOrder(
  t: TestApp,
  lines: Line[],
  coupon: { kind: 'percent' | 'fixed'; value: string },
  email = `buyer${++tag}@example.com`,
) {
  const { headers } = await signedInUser(t.app, t.deps);
  const cart = cartClient(t.app, headers);
  for (const line of lines) {
    const { variant } = await makeVariant(t.deps, { price: line.price, isDigital: line.isDigital });
    expect((await cart.add(variant.id, line.quantity ?? 1)).statusCode).toBe(201);
  }
  const made = await makeCoupon(t.deps, { code: freshCode(), ...coupon });
  const applied = await t.app.inject({
    method: 'POST',
    url: '/api/cart/coupon/',
    headers,
    payload: { code: made.code },
  });
  expect(applied.statusCode, applied.body).toBe(200);
  const view = (await cart.get()).json();
  expect(amountsOf(view)).toEqual(amountsOf(applied.json()));

  const placed = await placeOrder(t.app, headers, { billing_email: email });
  expect(placed.statusCode, placed.body).toBe(201);
  const order = placed.json();
  expect(amountsOf(order)).toEqual(amountsOf(view));
  expect(order.coupon_code).toBe(made.code);
  return { cart: amountsOf(view), order, coupon: made, headers };
}

describe('with the default rules (no tax, 5.00 shipping under 50.00)', () => {
  let smtp: SmtpSink;
  let t: TestApp;
  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({ env: { EMAIL_URL: smtp.url } });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  describe('percent coupons, half-up at the half cent', () => {
    it.each([
      // subtotal, percent, discount (half-up), total (5.00 shipping); the exact amount in the comment
      ['37.05', '10', '3.71', '38.34'], // 3.705: banker's rounding gives 3.70
      ['10.05', '10', '1.01', '14.04'], // 1.005: banker's and binary floating point give 1.00
      ['0.04', '12.5', '0.01', '5.03'], // 0.005: banker's gives 0.00
      ['0.20', '12.5', '0.03', '5.17'], // 0.025: banker's gives 0.02
      ['0.10', '25', '0.03', '5.07'], // 0.025: banker's gives 0.02
      ['2.50', '1', '0.03', '7.47'], // 0.025: banker's gives 0.02
      ['10.00', '33.33', '3.33', '11.67'], // 3.333
      ['15.00', '33.33', '5.00', '15.00'], // 4.9995
      ['1.50', '33.33', '0.50', '6.00'], // 0.49995
      ['0.01', '50', '0.01', '5.00'], // 0.005: banker's gives 0.00
      ['0.01', '49.99', '0.00', '5.01'], // 0.004999
      ['19.99', '100', '19.99', '5.00'],
    ])('%s less %s%% takes %s, total %s', async (subtotal, percent, discount, total) => {
      const { cart } = await quoteThenOrder(t, [{ price: subtotal }], { kind: 'percent', value: percent });
      expect(cart).toEqual({
        subtotal,
        discount_amount: discount,
        tax_amount: '0.00',
        shipping_amount: '5.00',
        total_amount: total,
      });
    });

    it('takes the percent of the whole subtotal, not of each line', async () => {
      // Three lines of 0.05 at 10%: 0.005 each would round to 0.01 × 3 = 0.03; of 0.15 it is 0.02.
      const { cart } = await quoteThenOrder(t, [{ price: '0.05' }, { price: '0.05' }, { price: '0.05' }], {
        kind: 'percent',
        value: '10',
      });
      expect(cart).toMatchObject({ subtotal: '0.15', discount_amount: '0.02', total_amount: '5.13' });
    });

    it('shows the percent value with its decimals on the cart', async () => {
      const { headers } = await signedInUser(t.app, t.deps);
      const coupon = await makeCoupon(t.deps, { code: freshCode(), kind: 'percent', value: '33.33' });
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/cart/coupon/',
        headers,
        payload: { code: coupon.code },
      });
      expect(res.json().coupon).toEqual({ code: coupon.code, kind: 'percent', value: '33.33' });
    });
  });

  describe('fixed coupons never take more than the subtotal', () => {
    it('a fixed value above the subtotal takes the subtotal: the total is the shipping', async () => {
      const { cart } = await quoteThenOrder(t, [{ price: '12.00' }], { kind: 'fixed', value: '20.00' });
      expect(cart).toEqual({
        subtotal: '12.00',
        discount_amount: '12.00',
        tax_amount: '0.00',
        shipping_amount: '5.00',
        total_amount: '5.00',
      });
    });

    it('a fixed value equal to the subtotal takes it all', async () => {
      const { cart } = await quoteThenOrder(t, [{ price: '7.50', quantity: 2 }], {
        kind: 'fixed',
        value: '15.00',
      });
      expect(cart).toMatchObject({ subtotal: '15.00', discount_amount: '15.00', total_amount: '5.00' });
    });

    it('a digital-only cart under a bigger fixed value costs 0.00, never less', async () => {
      const { cart, order } = await quoteThenOrder(t, [{ price: '9.99', isDigital: true }], {
        kind: 'fixed',
        value: '50.00',
      });
      expect(cart).toEqual({
        subtotal: '9.99',
        discount_amount: '9.99',
        tax_amount: '0.00',
        shipping_amount: '0.00',
        total_amount: '0.00',
      });
      expect(order.status).toBe('pending');
    });

    it('a fixed value under the subtotal takes exactly that', async () => {
      const { cart } = await quoteThenOrder(t, [{ price: '19.99' }, { price: '0.02' }], {
        kind: 'fixed',
        value: '0.01',
      });
      expect(cart).toEqual({
        subtotal: '20.01',
        discount_amount: '0.01',
        tax_amount: '0.00',
        shipping_amount: '5.00',
        total_amount: '25.00',
      });
    });
  });

  describe('free shipping is judged on subtotal − discount', () => {
    it('a 55.00 cart less 10% (49.50) pays shipping', async () => {
      const { cart } = await quoteThenOrder(t, [{ price: '55.00' }], { kind: 'percent', value: '10' });
      expect(cart).toEqual({
        subtotal: '55.00',
        discount_amount: '5.50',
        tax_amount: '0.00',
        shipping_amount: '5.00',
        total_amount: '54.50',
      });
    });

    it('a 55.56 cart less 10% (5.556 → 5.56) lands on exactly 50.00 and ships free', async () => {
      const { cart } = await quoteThenOrder(t, [{ price: '55.56' }], { kind: 'percent', value: '10' });
      expect(cart).toEqual({
        subtotal: '55.56',
        discount_amount: '5.56',
        tax_amount: '0.00',
        shipping_amount: '0.00',
        total_amount: '50.00',
      });
    });

    it('a fixed discount one cent too many pays shipping', async () => {
      const { cart } = await quoteThenOrder(t, [{ price: '60.00' }], { kind: 'fixed', value: '10.01' });
      expect(cart).toMatchObject({
        discount_amount: '10.01',
        shipping_amount: '5.00',
        total_amount: '54.99',
      });
    });

    it('a digital-only cart ships free whatever the discount', async () => {
      const { cart } = await quoteThenOrder(t, [{ price: '30.00', isDigital: true }], {
        kind: 'fixed',
        value: '5.00',
      });
      expect(cart).toEqual({
        subtotal: '30.00',
        discount_amount: '5.00',
        tax_amount: '0.00',
        shipping_amount: '0.00',
        total_amount: '25.00',
      });
    });

    it('a mixed cart under the threshold after the discount pays shipping', async () => {
      const { cart } = await quoteThenOrder(t, [{ price: '30.00', isDigital: true }, { price: '25.00' }], {
        kind: 'percent',
        value: '10',
      });
      expect(cart).toMatchObject({ subtotal: '55.00', discount_amount: '5.50', shipping_amount: '5.00' });
    });
  });

  describe('the placed order and its confirmation e-mail', () => {
    it('carries coupon_code as stored and discount_amount, and the e-mail shows both', async () => {
      const email = `coupon-mail-${++tag}@example.com`;
      const { order, coupon, headers } = await quoteThenOrder(
        t,
        [{ price: '37.05' }],
        { kind: 'percent', value: '10' },
        email,
      );
      expect(order).toMatchObject({
        coupon_code: coupon.code,
        subtotal: '37.05',
        discount_amount: '3.71',
        total_amount: '38.34',
      });
      // Stored with the order: read back the same, and the use taken for this order.
      const again = await t.app.inject({ method: 'GET', url: `/api/orders/${order.id}/`, headers });
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({ coupon_code: coupon.code, discount_amount: '3.71' });
      const state = await couponState(t.deps, coupon.id);
      expect(state.coupon.timesUsed).toBe(1);
      expect(state.held.map((r) => r.orderId)).toEqual([order.id]);

      await settleJobs(t.deps);
      const mails = smtp.messagesTo(email);
      expect(mails).toHaveLength(1);
      const mail = mails[0]!;
      expect(mail.subject).toBe(`Order ${order.order_number} confirmed`);
      for (const part of [mail.text ?? '', String(mail.html)]) {
        expect(part).toContain(`discount 3.71 (${coupon.code})`);
        expect(part).toContain('Subtotal 37.05');
        expect(part).toContain('Total 38.34');
      }
    });

    it('an order without a coupon has coupon_code null and a discount of 0.00 in the e-mail', async () => {
      const { headers } = await signedInUser(t.app, t.deps);
      const { variant } = await makeVariant(t.deps, { price: '20.00' });
      const email = `no-coupon-${++tag}@example.com`;
      const res = await placeOrder(t.app, headers, {
        items: [{ variant: variant.id, quantity: 1 }],
        billing_email: email,
      });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ coupon_code: null, discount_amount: '0.00' });
      await settleJobs(t.deps);
      const text = smtp.messagesTo(email)[0]!.text ?? '';
      expect(text).toContain('discount 0.00;');
    });
  });

  describe('an `items` order with a `coupon` of its own', () => {
    const counts = async (deps: Deps) => {
      const [row] = await queryRows<{ orders: number; lines: number; redemptions: number; jobs: number }>(
        deps.db,
        sql`SELECT (SELECT count(*)::int FROM orders) AS orders, (SELECT count(*)::int FROM order_lines) AS lines,
                   (SELECT count(*)::int FROM coupon_redemptions) AS redemptions,
                   (SELECT count(*)::int FROM jobs WHERE name = 'send_order_confirmation') AS jobs`,
      );
      return row!;
    };

    it('gets the discount (code matched case-insensitively, trimmed; stored as the coupon spells it) and leaves the cart alone', async () => {
      const { headers } = await signedInUser(t.app, t.deps);
      const cart = cartClient(t.app, headers);
      const { variant: inCart } = await makeVariant(t.deps, { price: '4.00' });
      expect((await cart.add(inCart.id, 1)).statusCode).toBe(201);
      const cartCoupon = await makeCoupon(t.deps, { code: freshCode('CartOne') });
      const applied = await t.app.inject({
        method: 'POST',
        url: '/api/cart/coupon/',
        headers,
        payload: { code: cartCoupon.code },
      });
      expect(applied.statusCode).toBe(200);
      const cartBefore = (await cart.get()).json();

      const { variant } = await makeVariant(t.deps, { price: '37.05', stock: 5 });
      const coupon = await makeCoupon(t.deps, { code: freshCode('ItemsOnly'), kind: 'percent', value: '10' });
      const res = await placeOrder(t.app, headers, {
        items: [{ variant: variant.id, quantity: 2 }],
        coupon: `  ${coupon.code.toUpperCase()} `,
      });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({
        coupon_code: coupon.code,
        subtotal: '74.10',
        discount_amount: '7.41',
        tax_amount: '0.00',
        shipping_amount: '0.00',
        total_amount: '66.69',
      });
      expect(await stockOf(t.deps, variant.id)).toBe(3);
      expect((await couponState(t.deps, coupon.id)).coupon.timesUsed).toBe(1);
      // The cart (its line and its own coupon) is untouched, and its coupon was not used.
      const cartAfter = (await cart.get()).json();
      expect(cartAfter).toEqual(cartBefore);
      expect((await couponState(t.deps, cartCoupon.id)).coupon.timesUsed).toBe(0);
    });

    it('agrees with the cart’s quote for the same lines and coupon', async () => {
      const { headers } = await signedInUser(t.app, t.deps);
      const { variant: a } = await makeVariant(t.deps, { price: '10.05' });
      const { variant: b } = await makeVariant(t.deps, { price: '0.04', isDigital: true });
      const coupon = await makeCoupon(t.deps, { code: freshCode(), kind: 'percent', value: '12.5' });
      const cart = cartClient(t.app, headers);
      await cart.add(a.id, 3);
      await cart.add(b.id, 1);
      const quote = await t.app.inject({
        method: 'POST',
        url: '/api/cart/coupon/',
        headers,
        payload: { code: coupon.code },
      });
      expect(quote.statusCode).toBe(200);
      // 30.19 × 12.5% = 3.77375 → 3.77
      expect(quote.json()).toMatchObject({
        subtotal: '30.19',
        discount_amount: '3.77',
        total_amount: '31.42',
      });
      const res = await placeOrder(t.app, headers, {
        items: [
          { variant: a.id, quantity: 3 },
          { variant: b.id, quantity: 1 },
        ],
        coupon: coupon.code,
      });
      expect(res.statusCode).toBe(201);
      expect(amountsOf(res.json())).toEqual(amountsOf(quote.json()));
    });

    it('refuses `coupon` with a cart checkout: 400 on `coupon`, nothing written', async () => {
      const { headers, user } = await signedInUser(t.app, t.deps);
      const { variant } = await makeVariant(t.deps, { price: '20.00', stock: 4 });
      expect((await cartClient(t.app, headers).add(variant.id, 1)).statusCode).toBe(201);
      const coupon = await makeCoupon(t.deps, { code: freshCode() });
      const before = await counts(t.deps);
      const rows = await cartRows(t.deps);

      const res = await t.app.inject({
        method: 'POST',
        url: '/api/orders/',
        headers,
        payload: orderBody({ coupon: coupon.code }),
      });
      expect(res.statusCode).toBe(400);
      expect(Object.keys(res.json())).toEqual(['coupon']);
      expect(res.json().coupon).toHaveLength(1);

      expect(await counts(t.deps)).toEqual(before);
      expect(await cartRows(t.deps)).toEqual(rows);
      expect(rows.carts.find((c) => c.userId === user.id)!.couponId).toBeNull();
      expect(await stockOf(t.deps, variant.id)).toBe(4);
      expect((await couponState(t.deps, coupon.id)).coupon.timesUsed).toBe(0);
    });

    it('refuses an unknown code: 409 coupon_invalid, nothing written (stock untouched)', async () => {
      const { headers } = await signedInUser(t.app, t.deps);
      const { variant } = await makeVariant(t.deps, { price: '20.00', stock: 4 });
      const before = await counts(t.deps);
      const res = await placeOrder(t.app, headers, {
        items: [{ variant: variant.id, quantity: 2 }],
        coupon: freshCode('NoSuch'),
      });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toEqual({ detail: 'This coupon code is not valid.', code: 'coupon_invalid' });
      expect(await counts(t.deps)).toEqual(before);
      expect(await stockOf(t.deps, variant.id)).toBe(4);
    });

    it('refuses an items order under min_subtotal: 409 coupon_invalid naming the amount, nothing written', async () => {
      const { headers } = await signedInUser(t.app, t.deps);
      const { variant } = await makeVariant(t.deps, { price: '20.00', stock: 4 });
      const coupon = await makeCoupon(t.deps, { code: freshCode(), minSubtotal: '40.01' });
      const before = await counts(t.deps);
      const res = await placeOrder(t.app, headers, {
        items: [{ variant: variant.id, quantity: 2 }],
        coupon: coupon.code,
      });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toEqual({
        detail: 'This coupon needs a subtotal of at least 40.01.',
        code: 'coupon_invalid',
      });
      expect(await counts(t.deps)).toEqual(before);
      expect(await stockOf(t.deps, variant.id)).toBe(4);
      expect((await couponState(t.deps, coupon.id)).coupon.timesUsed).toBe(0);
    });
  });
});

describe('with TAX_RATE=0.08: tax on the discounted amount', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { TAX_RATE: '0.08' } });
  });
  afterAll(() => t.close());

  it('40.00 less 10%: tax 2.88 on 36.00 (not 3.20 on 40.00)', async () => {
    const { cart } = await quoteThenOrder(t, [{ price: '40.00' }], { kind: 'percent', value: '10' });
    expect(cart).toEqual({
      subtotal: '40.00',
      discount_amount: '4.00',
      tax_amount: '2.88',
      shipping_amount: '5.00',
      total_amount: '43.88',
    });
  });

  it('41.45 less 5.00: tax 2.916 → 2.92 on 36.45', async () => {
    const { cart } = await quoteThenOrder(t, [{ price: '41.45' }], { kind: 'fixed', value: '5.00' });
    expect(cart).toEqual({
      subtotal: '41.45',
      discount_amount: '5.00',
      tax_amount: '2.92',
      shipping_amount: '5.00',
      total_amount: '44.37',
    });
  });

  it('rounds the discount first, then taxes the rest: 37.05 less 10% (3.71) taxes 33.34', async () => {
    const { cart } = await quoteThenOrder(t, [{ price: '37.05' }], { kind: 'percent', value: '10' });
    // 33.34 × 0.08 = 2.6672 → 2.67
    expect(cart).toEqual({
      subtotal: '37.05',
      discount_amount: '3.71',
      tax_amount: '2.67',
      shipping_amount: '5.00',
      total_amount: '41.01',
    });
  });

  it('a fixed value above the subtotal leaves nothing to tax', async () => {
    const { cart } = await quoteThenOrder(t, [{ price: '12.00' }], { kind: 'fixed', value: '20.00' });
    expect(cart).toEqual({
      subtotal: '12.00',
      discount_amount: '12.00',
      tax_amount: '0.00',
      shipping_amount: '5.00',
      total_amount: '5.00',
    });
  });

  it('a 54.00 cart less 5.00 is under 50.00: taxed and shipped', async () => {
    const { cart } = await quoteThenOrder(t, [{ price: '54.00' }], { kind: 'fixed', value: '5.00' });
    expect(cart).toEqual({
      subtotal: '54.00',
      discount_amount: '5.00',
      tax_amount: '3.92',
      shipping_amount: '5.00',
      total_amount: '57.92',
    });
  });
});
