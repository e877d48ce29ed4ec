/**
 * SPEC §5 and the acceptance 3: stock never oversells. 200 customers order the last 10
 * units at once, spread over two API processes on one database: exactly 10 orders, 190 answers of
 * 409 with the SPEC body, and the stock at 0.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/platform/db/client.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeVariant, manyCustomers, placeOrder, stockOf } from '../helpers/commerce.js';

const postgres = Boolean(process.env.DATABASE_URL);

describe.skipIf(!postgres)('the last units (PostgreSQL only: PGlite runs one transaction at a time)', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await createTestApp();
    b = await createTestApp({ database: a.database, redisPrefix: a.redisPrefix });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('sells 10 units to exactly 10 of 200 concurrent buyers', async () => {
    const { variant } = await makeVariant(a.deps, { stock: 10 });
    const buyers = await manyCustomers(a.deps, 200);
    const answers = await Promise.all(
      buyers.map((buyer, i) =>
        placeOrder((i % 2 ? b : a).app, buyer.headers, { items: [{ variant: variant.id, quantity: 1 }] }),
      ),
    );
    const statuses = answers.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 409)).toHaveLength(190);
    for (const refused of answers.filter((r) => r.statusCode === 409)) {
      expect(refused.json()).toEqual({
        detail: 'Not enough stock.',
        variants: [{ variant: variant.id, requested: 1, available: 0 }],
      });
    }
    expect(await stockOf(a.deps, variant.id)).toBe(0);
    const [row] = await queryRows<{ orders: number; units: number }>(
      a.deps.db,
      sql`SELECT count(DISTINCT order_id)::int AS orders, coalesce(sum(quantity), 0)::int AS units FROM order_lines WHERE variant_id = ${variant.id}`,
    );
    expect(row).toEqual({ orders: 10, units: 10 });
  });

  it('lets two-variant orders in opposite line order finish without deadlock', async () => {
    const x = (await makeVariant(a.deps, { stock: 1000 })).variant;
    const y = (await makeVariant(a.deps, { stock: 1000 })).variant;
    const buyers = await manyCustomers(a.deps, 40);
    const answers = await Promise.all(
      buyers.map((buyer, i) =>
        placeOrder((i % 2 ? b : a).app, buyer.headers, {
          items:
            i % 2
              ? [
                  { variant: x.id, quantity: 1 },
                  { variant: y.id, quantity: 1 },
                ]
              : [
                  { variant: y.id, quantity: 1 },
                  { variant: x.id, quantity: 1 },
                ],
        }),
      ),
    );
    expect(answers.map((r) => r.statusCode)).toEqual(Array(40).fill(201));
    expect(await stockOf(a.deps, x.id)).toBe(960);
    expect(await stockOf(a.deps, y.id)).toBe(960);
  });
});
