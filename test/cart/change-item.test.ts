/**
 * Issue 9, acceptance 1 and 6 (changing a line): `PATCH /api/cart/items/<id>/` sets the quantity,
 * checked against the stock; another customer's line and malformed ids are 404s; bad quantities a
 * 400; nothing is written by any refusal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { cartClient, cartRows, makeVariant, setVariant } from './fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

/** A customer with one line of a fresh variant. */
async function withLine(stock = 10, quantity = 2) {
  const cart = cartClient(t.app, (await signedInUser(t.app, t.deps)).headers);
  const { variant } = await makeVariant(t.deps, { stock, price: '3.00' });
  const line = (await cart.add(variant.id, quantity)).json().items[0].id as string;
  return { cart, variant, line };
}

describe('PATCH /api/cart/items/<id>/', () => {
  it('sets the quantity (not adds) and answers 200 with the whole cart', async () => {
    const { cart, line } = await withLine();
    const res = await cart.change(line, { quantity: 7 });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      items: [{ id: line, quantity: 7, line_total: '21.00' }],
      subtotal: '21.00',
      item_count: 7,
    });
    expect((await cart.change(line, { quantity: 1 })).json().items[0].quantity).toBe(1);
    expect(res.json().id).toBe((await cart.get()).json().id);
  });

  it('moves updated_at', async () => {
    const { cart, line } = await withLine();
    const before = (await cart.get()).json().updated_at as string;
    await new Promise((r) => setTimeout(r, 5));
    const after = (await cart.change(line, { quantity: 3 })).json().updated_at as string;
    expect(Date.parse(after)).toBeGreaterThan(Date.parse(before));
  });

  it('refuses more than the stock with the count left', async () => {
    const { cart, line } = await withLine(4);
    const before = await cartRows(t.deps);
    const res = await cart.change(line, { quantity: 5 });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ quantity: ['Only 4 left in stock.'] });
    expect(await cartRows(t.deps)).toEqual(before);
    expect((await cart.change(line, { quantity: 4 })).statusCode).toBe(200);
  });

  it.each([0, -1, 1001, '3', 2.5, null, true])('refuses the quantity %j with a 400', async (quantity) => {
    const { cart, line } = await withLine();
    const before = await cartRows(t.deps);
    const res = await cart.change(line, { quantity });
    expect(res.statusCode).toBe(400);
    expect(Object.keys(res.json())).toEqual(['quantity']);
    expect(await cartRows(t.deps)).toEqual(before);
  });

  it.each([
    ['an empty body', {}],
    ['a list', [1]],
    ['a string', '"x"'],
    ['malformed JSON', '{"quantity": '],
  ])('refuses %s with a 400', async (_, payload) => {
    const { cart, line } = await withLine();
    const before = await cartRows(t.deps);
    const res = await cart.change(line, payload);
    expect(res.statusCode).toBe(400);
    expect(await cartRows(t.deps)).toEqual(before);
  });

  it('answers 404 for another customer’s line and leaves it alone', async () => {
    const { line } = await withLine();
    const other = cartClient(t.app, (await signedInUser(t.app, t.deps)).headers);
    await other.get();
    const before = await cartRows(t.deps);
    const res = await other.change(line, { quantity: 1 });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ detail: 'Not found.' });
    expect(await cartRows(t.deps)).toEqual(before);
  });

  it('answers 404 to a customer who has no cart yet', async () => {
    const { line } = await withLine();
    const other = cartClient(t.app, (await signedInUser(t.app, t.deps)).headers);
    const before = await cartRows(t.deps);
    expect((await other.change(line, { quantity: 1 })).statusCode).toBe(404);
    expect(await cartRows(t.deps)).toEqual(before);
  });

  it.each([
    'abc',
    '00000000-0000-4000-8000-000000000000',
    '{6f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b}',
    '6f1c2a345b6d4e7f8a9b0c1d2e3f4a5b',
    'x'.repeat(100),
    '1',
  ])('answers 404 for the line id %j', async (id) => {
    const { cart } = await withLine();
    const before = await cartRows(t.deps);
    const res = await cart.change(id, { quantity: 1 });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ detail: 'Not found.' });
    expect(await cartRows(t.deps)).toEqual(before);
  });

  it('takes the line id in upper case', async () => {
    const { cart, line } = await withLine();
    expect((await cart.change(line.toUpperCase(), { quantity: 3 })).statusCode).toBe(200);
  });

  it('refuses to change a line whose variant is no longer for sale (it can only be removed)', async () => {
    const { cart, line, variant } = await withLine();
    await setVariant(t.deps, variant.id, { isActive: false });
    const before = await cartRows(t.deps);
    const res = await cart.change(line, { quantity: 1 });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ variant: ['This variant is no longer available.'] });
    expect(await cartRows(t.deps)).toEqual(before);
    expect((await cart.remove(line)).statusCode).toBe(200);
  });
});
