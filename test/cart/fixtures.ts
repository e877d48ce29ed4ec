/** Shared by the cart tests: catalog rows written straight to the tables, and the cart's four calls. */
import { eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../src/deps.js';
import { cartLines, carts } from '../../src/modules/cart/tables.js';
import { products, variants } from '../../src/modules/catalog/tables.js';
import { queryRows } from '../../src/platform/db/client.js';

/** A product with one variant, live and active: the orders tests' helper, shared. */
export { makeVariant } from '../helpers/commerce.js';

export const setVariant = (deps: Deps, id: string, set: Partial<typeof variants.$inferInsert>) =>
  deps.db.update(variants).set(set).where(eq(variants.id, id));

export const setProduct = (deps: Deps, id: string, set: Partial<typeof products.$inferInsert>) =>
  deps.db.update(products).set(set).where(eq(products.id, id));

/** The cart's endpoints, as one caller. */
export function cartClient(app: FastifyInstance, headers: Record<string, string> = {}) {
  return {
    get: () => app.inject({ method: 'GET', url: '/api/cart/', headers }),
    add: (variant: unknown, quantity: unknown = 1) =>
      app.inject({ method: 'POST', url: '/api/cart/items/', headers, payload: { variant, quantity } }),
    post: (payload: unknown) =>
      app.inject({
        method: 'POST',
        url: '/api/cart/items/',
        headers: { ...headers, 'content-type': 'application/json' },
        payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
      }),
    change: (line: string, payload: unknown) =>
      app.inject({
        method: 'PATCH',
        url: `/api/cart/items/${line}/`,
        headers: { ...headers, 'content-type': 'application/json' },
        payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
      }),
    remove: (line: string) => app.inject({ method: 'DELETE', url: `/api/cart/items/${line}/`, headers }),
  };
}

/** Every cart and line in the database, for "nothing was written". */
export async function cartRows(deps: Deps) {
  const cartList = await deps.db.select().from(carts).orderBy(carts.id);
  const lines = await deps.db.select().from(cartLines).orderBy(cartLines.id);
  return { carts: cartList, lines };
}

/** The stored quantity of a variant's lines across all carts. */
export async function storedQuantity(deps: Deps, variantId: string): Promise<number> {
  const [row] = await queryRows<{ total: number }>(
    deps.db,
    sql`SELECT coalesce(sum(quantity), 0)::int AS total FROM cart_lines WHERE variant_id = ${variantId}`,
  );
  return row!.total;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
