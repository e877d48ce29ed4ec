/**
 * Issue 9, acceptance 2 (money in the cart): exact cents, two-place strings, SPEC §5's tax and
 * shipping rules with TAX_RATE, SHIPPING_FLAT_RATE and FREE_SHIPPING_THRESHOLD from the
 * environment, at and around the threshold; digital-only carts ship free.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { cartClient, makeVariant } from './fixtures.js';

const MONEY = /^\d+\.\d{2}$/;
const AMOUNTS = ['subtotal', 'discount_amount', 'tax_amount', 'shipping_amount', 'total_amount'];

async function cartOf(t: TestApp, lines: Array<{ price: string; quantity?: number; isDigital?: boolean }>) {
  const cart = cartClient(t.app, (await signedInUser(t.app, t.deps)).headers);
  for (const line of lines) {
    const { variant } = await makeVariant(t.deps, { price: line.price, isDigital: line.isDigital });
    expect((await cart.add(variant.id, line.quantity ?? 1)).statusCode).toBe(201);
  }
  const body = (await cart.get()).json();
  for (const key of AMOUNTS) expect(body[key], key).toMatch(MONEY);
  for (const item of body.items) {
    expect(item.unit_price).toMatch(MONEY);
    expect(item.line_total).toMatch(MONEY);
    expect(item.variant.price).toMatch(MONEY);
  }
  return body;
}

describe('with the default rules (no tax, 5.00 shipping under 50.00)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('adds three lines at 0.10 to exactly 0.30', async () => {
    const body = await cartOf(t, [{ price: '0.10' }, { price: '0.10' }, { price: '0.10' }]);
    expect(body).toMatchObject({
      subtotal: '0.30',
      discount_amount: '0.00',
      tax_amount: '0.00',
      shipping_amount: '5.00',
      total_amount: '5.30',
      item_count: 3,
    });
  });

  it('multiplies exactly: 1000 × 0.07', async () => {
    const { variant } = await makeVariant(t.deps, { price: '0.07', stock: 1000 });
    const cart = cartClient(t.app, (await signedInUser(t.app, t.deps)).headers);
    const body = (await cart.add(variant.id, 1000)).json();
    expect(body.items[0].line_total).toBe('70.00');
    expect(body.subtotal).toBe('70.00');
  });

  it('ships a digital-only cart free, and a mixed one not', async () => {
    expect((await cartOf(t, [{ price: '3.00', isDigital: true }])).shipping_amount).toBe('0.00');
    expect((await cartOf(t, [{ price: '3.00', isDigital: true }, { price: '1.00' }])).shipping_amount).toBe(
      '5.00',
    );
  });
});

describe('with TAX_RATE=0.08, SHIPPING_FLAT_RATE=4.99, FREE_SHIPPING_THRESHOLD=50.00', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { TAX_RATE: '0.08', SHIPPING_FLAT_RATE: '4.99' } });
  });
  afterAll(() => t.close());

  it.each([
    // subtotal, tax (half-up), shipping, total
    ['49.99', '4.00', '4.99', '58.98'],
    ['50.00', '4.00', '0.00', '54.00'],
    ['50.01', '4.00', '0.00', '54.01'],
    ['0.06', '0.00', '4.99', '5.05'],
    ['0.07', '0.01', '4.99', '5.07'],
  ])('a subtotal of %s: tax %s, shipping %s, total %s', async (subtotal, tax, shipping, total) => {
    const body = await cartOf(t, [{ price: subtotal }]);
    expect(body).toMatchObject({
      subtotal,
      tax_amount: tax,
      shipping_amount: shipping,
      total_amount: total,
    });
  });

  it('reaches the threshold over several lines', async () => {
    const body = await cartOf(t, [
      { price: '24.99', quantity: 2 },
      { price: '0.02', quantity: 1 },
    ]);
    expect(body).toMatchObject({ subtotal: '50.00', tax_amount: '4.00', shipping_amount: '0.00' });
  });
});
