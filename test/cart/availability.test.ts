/**
 * Issue 9, acceptance 1 (lines that became unavailable, prices that changed): the cart is priced
 * from the database on every read. A line whose variant or product is no longer for sale stays,
 * with `available: false`, and counts in no total and not in `item_count`; it counts again when
 * the variant is back.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { variants } from '../../src/modules/catalog/tables.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { cartClient, makeVariant, setProduct, setVariant } from './fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

async function twoLines() {
  const cart = cartClient(t.app, (await signedInUser(t.app, t.deps)).headers);
  const kept = await makeVariant(t.deps, { price: '20.00' });
  const lost = await makeVariant(t.deps, { price: '40.00' });
  await cart.add(kept.variant.id, 1);
  await cart.add(lost.variant.id, 2);
  const full = (await cart.get()).json();
  expect(full).toMatchObject({ subtotal: '100.00', shipping_amount: '0.00', item_count: 3 });
  return { cart, kept, lost };
}

describe('lines that are no longer for sale', () => {
  const hides: Array<[string, (made: Awaited<ReturnType<typeof makeVariant>>) => Promise<unknown>]> = [
    ['deactivated', ({ variant }) => setVariant(t.deps, variant.id, { isActive: false })],
    ['deleted', ({ variant }) => setVariant(t.deps, variant.id, { deletedAt: new Date() })],
    ['of a deactivated product', ({ product }) => setProduct(t.deps, product.id, { isActive: false })],
    ['of a deleted product', ({ product }) => setProduct(t.deps, product.id, { deletedAt: new Date() })],
  ];

  it.each(hides)('a variant %s stays, flagged, and leaves the totals', async (_, hide) => {
    const { cart, kept, lost } = await twoLines();
    await hide(lost);
    const res = await cart.get();
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.items).toEqual([
      expect.objectContaining({ variant: expect.objectContaining({ id: kept.variant.id }), available: true }),
      expect.objectContaining({
        variant: expect.objectContaining({ id: lost.variant.id }),
        quantity: 2,
        unit_price: '40.00',
        line_total: '80.00',
        available: false,
      }),
    ]);
    // 20.00 alone is under the free-shipping threshold again.
    expect(body).toMatchObject({
      subtotal: '20.00',
      shipping_amount: '5.00',
      total_amount: '25.00',
      item_count: 1,
    });
  });

  it('counts the line again once the variant is back', async () => {
    const { cart, lost } = await twoLines();
    await setVariant(t.deps, lost.variant.id, { isActive: false });
    expect((await cart.get()).json().subtotal).toBe('20.00');
    await setVariant(t.deps, lost.variant.id, { isActive: true });
    expect((await cart.get()).json()).toMatchObject({ subtotal: '100.00', item_count: 3 });
  });

  it('a cart of only unavailable lines totals zero', async () => {
    const cart = cartClient(t.app, (await signedInUser(t.app, t.deps)).headers);
    const { variant } = await makeVariant(t.deps, { price: '9.00' });
    await cart.add(variant.id, 1);
    await setVariant(t.deps, variant.id, { isActive: false });
    expect((await cart.get()).json()).toMatchObject({
      items: [expect.objectContaining({ available: false })],
      subtotal: '0.00',
      shipping_amount: '0.00',
      total_amount: '0.00',
      item_count: 0,
    });
  });

  it('the other lines can still be added to, changed and removed', async () => {
    const { cart, kept, lost } = await twoLines();
    await setVariant(t.deps, lost.variant.id, { isActive: false });
    const added = await cart.add(kept.variant.id, 1);
    expect(added.statusCode).toBe(201);
    expect(added.json()).toMatchObject({ subtotal: '40.00', item_count: 2 });
    const lostLine = added.json().items[1].id as string;
    const removed = await cart.remove(lostLine);
    expect(removed.statusCode).toBe(200);
    expect(removed.json().items).toHaveLength(1);
  });

  it('a variant removed from the catalog for good takes its line with it', async () => {
    const { cart, lost } = await twoLines();
    await t.deps.db.delete(variants).where(eq(variants.id, lost.variant.id));
    expect((await cart.get()).json()).toMatchObject({ items: [expect.anything()], subtotal: '20.00' });
  });
});

describe('prices read on every request', () => {
  it('shows a price change on the next read', async () => {
    const cart = cartClient(t.app, (await signedInUser(t.app, t.deps)).headers);
    const { variant } = await makeVariant(t.deps, { price: '10.00' });
    expect((await cart.add(variant.id, 3)).json().subtotal).toBe('30.00');
    await setVariant(t.deps, variant.id, { price: '12.34' });
    expect((await cart.get()).json()).toMatchObject({
      items: [expect.objectContaining({ unit_price: '12.34', line_total: '37.02' })],
      subtotal: '37.02',
    });
  });

  it('ignores a price the client sends', async () => {
    const cart = cartClient(t.app, (await signedInUser(t.app, t.deps)).headers);
    const { variant } = await makeVariant(t.deps, { price: '10.00' });
    const res = await cart.post({ variant: variant.id, quantity: 1, price: '0.01', unit_price: '0.01' });
    expect(res.json().subtotal).toBe('10.00');
  });

  it('checks the stock as it is now', async () => {
    const cart = cartClient(t.app, (await signedInUser(t.app, t.deps)).headers);
    const { variant } = await makeVariant(t.deps, { stock: 10 });
    const line = (await cart.add(variant.id, 2)).json().items[0].id as string;
    await setVariant(t.deps, variant.id, { stock: 3 });
    expect((await cart.add(variant.id, 2)).json()).toEqual({ quantity: ['Only 3 left in stock.'] });
    expect((await cart.change(line, { quantity: 4 })).json()).toEqual({
      quantity: ['Only 3 left in stock.'],
    });
    expect((await cart.change(line, { quantity: 3 })).statusCode).toBe(200);
  });
});
