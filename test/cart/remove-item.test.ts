/**
 * Issue 9, acceptance 1 and 6 (removing a line): `DELETE /api/cart/items/<id>/` answers 200 with
 * what is left; the line is gone (a second delete is a 404); another customer's line and malformed
 * ids are 404s that remove nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { cartClient, cartRows, makeVariant } from './fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

async function withLines() {
  const cart = cartClient(t.app, (await signedInUser(t.app, t.deps)).headers);
  const a = (await makeVariant(t.deps, { price: '2.00' })).variant;
  const b = (await makeVariant(t.deps, { price: '5.00' })).variant;
  await cart.add(a.id, 1);
  const items = (await cart.add(b.id, 2)).json().items as Array<{ id: string }>;
  return { cart, lines: items.map((i) => i.id) };
}

describe('DELETE /api/cart/items/<id>/', () => {
  it('removes the line and answers 200 with the rest of the cart', async () => {
    const { cart, lines } = await withLines();
    const before = (await cart.get()).json().updated_at as string;
    await new Promise((r) => setTimeout(r, 5));
    const res = await cart.remove(lines[0]!);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ items: [{ id: lines[1] }], subtotal: '10.00', item_count: 2 });
    expect(Date.parse(res.json().updated_at)).toBeGreaterThan(Date.parse(before));
    expect(res.json()).toEqual((await cart.get()).json());
  });

  it('answers 404 to a second delete of the same line', async () => {
    const { cart, lines } = await withLines();
    expect((await cart.remove(lines[0]!)).statusCode).toBe(200);
    const res = await cart.remove(lines[0]!);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ detail: 'Not found.' });
  });

  it('empties the cart line by line', async () => {
    const { cart, lines } = await withLines();
    await cart.remove(lines[0]!);
    const res = await cart.remove(lines[1]!);
    expect(res.json()).toMatchObject({ items: [], subtotal: '0.00', total_amount: '0.00', item_count: 0 });
  });

  it('answers 404 for another customer’s line, with or without a cart of one’s own, and removes nothing', async () => {
    const { lines } = await withLines();
    const other = cartClient(t.app, (await signedInUser(t.app, t.deps)).headers);
    const before = await cartRows(t.deps);
    expect((await other.remove(lines[0]!)).statusCode).toBe(404);
    await other.get();
    const withCart = await cartRows(t.deps);
    expect(withCart.lines).toEqual(before.lines);
    expect((await other.remove(lines[0]!)).statusCode).toBe(404);
    expect(await cartRows(t.deps)).toEqual(withCart);
  });

  it.each(['abc', '00000000-0000-4000-8000-000000000000', '{00000000-0000-4000-8000-000000000000}', '%20'])(
    'answers 404 for the line id %j',
    async (id) => {
      const { cart } = await withLines();
      const before = await cartRows(t.deps);
      const res = await cart.remove(id);
      expect(res.statusCode).toBe(404);
      expect(await cartRows(t.deps)).toEqual(before);
    },
  );
});
