/**
 * Issue 9 (cart under concurrency): every cart write locks the cart row first, so concurrent adds
 * of one variant, spread over two API processes on one database, sum exactly and never pass the
 * stock; the first use of a cart by concurrent requests makes one cart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { cartClient, cartRows, makeVariant, storedQuantity } from './fixtures.js';

const postgres = Boolean(process.env.DATABASE_URL);

describe.skipIf(!postgres)(
  'two API processes on one PostgreSQL database (skipped on PGlite: it runs one transaction at a time, so nothing interleaves)',
  () => {
    let a: TestApp;
    let b: TestApp;
    beforeAll(async () => {
      a = await createTestApp();
      b = await createTestApp({ database: a.database, redisPrefix: a.redisPrefix });
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
    });

    /** A new customer (no cart yet) and a client of each process for them. */
    async function customer() {
      const { user, headers } = await signedInUser(a.app, a.deps);
      return { user, clients: [cartClient(a.app, headers), cartClient(b.app, headers)] };
    }

    it('10 concurrent adds of quantity 1 make one line of quantity 10 in one cart', async () => {
      const { user, clients } = await customer();
      const { variant } = await makeVariant(a.deps, { stock: 100 });
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => clients[i % 2]!.add(variant.id, 1)),
      );
      expect(answers.map((r) => r.statusCode)).toEqual(Array(10).fill(201));
      // Each answer saw the adds before its own: their quantities are 1..10, each once.
      expect(answers.map((r) => r.json().items[0].quantity).sort((x, y) => x - y)).toEqual([
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
      ]);
      expect(await storedQuantity(a.deps, variant.id)).toBe(10);
      const rows = await cartRows(a.deps);
      expect(rows.carts.filter((c) => c.userId === user.id)).toHaveLength(1);
      expect(rows.lines.filter((l) => l.variantId === variant.id)).toHaveLength(1);
    });

    it('10 concurrent adds against a stock of 5: exactly 5 succeed, the rest are told what is left', async () => {
      const { clients } = await customer();
      const { variant } = await makeVariant(a.deps, { stock: 5 });
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => clients[i % 2]!.add(variant.id, 1)),
      );
      const statuses = answers.map((r) => r.statusCode);
      expect(statuses.filter((s) => s === 201)).toHaveLength(5);
      expect(statuses.filter((s) => s === 400)).toHaveLength(5);
      for (const r of answers.filter((r) => r.statusCode === 400))
        expect(r.json()).toEqual({ quantity: ['Only 5 left in stock.'] });
      expect(await storedQuantity(a.deps, variant.id)).toBe(5);
    });

    it('concurrent first reads make one cart', async () => {
      const { user, clients } = await customer();
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => clients[i % 2]!.get()));
      expect(answers.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
      expect(new Set(answers.map((r) => r.json().id)).size).toBe(1);
      expect((await cartRows(a.deps)).carts.filter((c) => c.userId === user.id)).toHaveLength(1);
    });

    it('concurrent changes and removals of one cart leave it consistent', async () => {
      const { clients } = await customer();
      const made = await Promise.all(Array.from({ length: 4 }, () => makeVariant(a.deps, { stock: 50 })));
      let lines: string[] = [];
      for (const { variant } of made)
        lines = (await clients[0]!.add(variant.id, 1)).json().items.map((i: { id: string }) => i.id);
      const answers = await Promise.all([
        clients[0]!.change(lines[0]!, { quantity: 5 }),
        clients[1]!.remove(lines[1]!),
        clients[0]!.add(made[2]!.variant.id, 3),
        clients[1]!.change(lines[3]!, { quantity: 7 }),
        clients[0]!.remove(lines[1]!),
      ]);
      expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 201, 404]);
      const final = (await clients[0]!.get()).json();
      expect(final.items.map((i: { quantity: number }) => i.quantity)).toEqual([5, 4, 7]);
      expect(final.item_count).toBe(16);
    });
  },
);
