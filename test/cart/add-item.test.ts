/**
 * Issue 9, acceptance 1 (adding): `POST /api/cart/items/` answers 201 with the whole cart; the same
 * variant again adds to its line; bad quantities and variants that are not for sale are a 400 on
 * the field, and nothing is written; more than the stock is a 400 naming what is left.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { cartClient, cartRows, makeVariant, setProduct, setVariant, storedQuantity } from './fixtures.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const customer = async () => cartClient(t.app, (await signedInUser(t.app, t.deps)).headers);

describe('POST /api/cart/items/', () => {
  it('adds a line and answers 201 with the whole cart', async () => {
    const cart = await customer();
    const { variant } = await makeVariant(t.deps, { price: '12.50' });
    const res = await cart.add(variant.id, 3);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      items: [{ variant: { id: variant.id }, quantity: 3, unit_price: '12.50', line_total: '37.50' }],
      subtotal: '37.50',
      item_count: 3,
    });
    expect(res.json()).toEqual((await cart.get()).json());
  });

  it('adds the same variant again to its line', async () => {
    const cart = await customer();
    const { variant } = await makeVariant(t.deps);
    const first = (await cart.add(variant.id, 2)).json();
    const second = await cart.add(variant.id, 5);
    expect(second.statusCode).toBe(201);
    expect(second.json().items).toHaveLength(1);
    expect(second.json().items[0]).toMatchObject({ id: first.items[0].id, quantity: 7 });
    expect(await storedQuantity(t.deps, variant.id)).toBe(7);
  });

  it('takes an upper-case variant id as the same variant', async () => {
    const cart = await customer();
    const { variant } = await makeVariant(t.deps);
    await cart.add(variant.id, 1);
    const res = await cart.add(variant.id.toUpperCase(), 1);
    expect(res.statusCode).toBe(201);
    expect(res.json().items).toEqual([expect.objectContaining({ quantity: 2 })]);
  });

  it('moves updated_at', async () => {
    const cart = await customer();
    const { variant } = await makeVariant(t.deps);
    const before = (await cart.get()).json().updated_at as string;
    await new Promise((r) => setTimeout(r, 5));
    const after = (await cart.add(variant.id, 1)).json().updated_at as string;
    expect(Date.parse(after)).toBeGreaterThan(Date.parse(before));
  });

  it.each([
    [0, 'Ensure this value is greater than or equal to 1.'],
    [-1, 'Ensure this value is greater than or equal to 1.'],
    [1001, 'Ensure this value is less than or equal to 1000.'],
    ['3', 'A valid integer is required.'],
    [1.5, 'A valid integer is required.'],
    [null, 'This field may not be null.'],
    [2 ** 63, 'Ensure this value is less than or equal to 1000.'],
  ])('refuses the quantity %j with a 400 on quantity, writing nothing', async (quantity, message) => {
    const cart = await customer();
    const { variant } = await makeVariant(t.deps);
    const before = await cartRows(t.deps);
    const res = await cart.add(variant.id, quantity);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ quantity: [message] });
    expect(await cartRows(t.deps)).toEqual(before);
  });

  it('refuses a missing quantity, and names both fields of an empty body', async () => {
    const cart = await customer();
    const { variant } = await makeVariant(t.deps);
    expect((await cart.post({ variant: variant.id })).json()).toEqual({
      quantity: ['This field is required.'],
    });
    expect((await cart.post({})).json()).toEqual({
      variant: ['This field is required.'],
      quantity: ['This field is required.'],
    });
  });

  it('refuses a line total over 1000, keeping the line as it was', async () => {
    const cart = await customer();
    const { variant } = await makeVariant(t.deps, { stock: 5000 });
    expect((await cart.add(variant.id, 1000)).statusCode).toBe(201);
    const before = await cartRows(t.deps);
    const res = await cart.add(variant.id, 1);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      quantity: ['A cart line holds at most 1000; this cart already has 1000 of this variant.'],
    });
    expect(await cartRows(t.deps)).toEqual(before);
  });

  it('refuses more than the stock, counting what the line already holds', async () => {
    const cart = await customer();
    const { variant } = await makeVariant(t.deps, { stock: 5 });
    expect((await cart.add(variant.id, 6)).json()).toEqual({ quantity: ['Only 5 left in stock.'] });
    expect((await cart.add(variant.id, 3)).statusCode).toBe(201);
    const res = await cart.add(variant.id, 3);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ quantity: ['Only 5 left in stock.'] });
    expect(await storedQuantity(t.deps, variant.id)).toBe(3);
    expect((await cart.add(variant.id, 2)).json().items[0].quantity).toBe(5);
  });

  it('refuses a variant that is out of stock', async () => {
    const cart = await customer();
    const { variant } = await makeVariant(t.deps, { stock: 0 });
    expect((await cart.add(variant.id, 1)).json()).toEqual({ quantity: ['Only 0 left in stock.'] });
  });

  describe('a variant that is not for sale is a 400 on variant, and nothing is written', () => {
    const cases: Array<[string, (v: Awaited<ReturnType<typeof makeVariant>>) => Promise<unknown>]> = [
      ['an inactive variant', ({ variant }) => setVariant(t.deps, variant.id, { isActive: false })],
      ['a deleted variant', ({ variant }) => setVariant(t.deps, variant.id, { deletedAt: new Date() })],
      [
        'a variant of an inactive product',
        ({ product }) => setProduct(t.deps, product.id, { isActive: false }),
      ],
      [
        'a variant of a deleted product',
        ({ product }) => setProduct(t.deps, product.id, { deletedAt: new Date() }),
      ],
    ];
    it.each(cases)('%s', async (_, hide) => {
      const cart = await customer();
      const made = await makeVariant(t.deps);
      await hide(made);
      const before = await cartRows(t.deps);
      const res = await cart.add(made.variant.id, 1);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        variant: [`Invalid pk "${made.variant.id}" - object does not exist.`],
      });
      expect(await cartRows(t.deps)).toEqual(before);
    });

    it('a variant that does not exist', async () => {
      const cart = await customer();
      const id = '00000000-0000-4000-8000-000000000000';
      const res = await cart.add(id, 1);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ variant: [`Invalid pk "${id}" - object does not exist.`] });
    });
  });

  it.each([
    'abc',
    '',
    'urn:uuid:6f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b',
    '{6f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b}',
    '6f1c2a345b6d4e7f8a9b0c1d2e3f4a5b',
  ])('refuses the malformed variant id %j with a 400', async (id) => {
    const cart = await customer();
    const res = await cart.add(id, 1);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ variant: ['Must be a valid UUID.'] });
  });

  it('ignores fields it does not know', async () => {
    const cart = await customer();
    const { variant } = await makeVariant(t.deps, { price: '4.00' });
    const res = await cart.post({ variant: variant.id, quantity: 1, unit_price: '0.01', cart: 'x' });
    expect(res.statusCode).toBe(201);
    expect(res.json().items[0].unit_price).toBe('4.00');
  });
});
