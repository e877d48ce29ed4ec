import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../src/deps.js';
import { loadTestUsers } from '../../src/modules/accounts/index.js';
import { products, variants } from '../../src/modules/catalog/tables.js';

let counter = 0;

/** A live product with one variant (`name` is the variant's), written straight to the catalog tables. */
export async function makeVariant(
  deps: Deps,
  fields: { stock?: number; price?: string; isDigital?: boolean; productName?: string; name?: string } = {},
) {
  counter++;
  const tag = `${counter}-${Math.random().toString(36).slice(2, 8)}`;
  const [product] = await deps.db
    .insert(products)
    .values({
      name: fields.productName ?? `Product ${tag}`,
      slug: `product-${tag}`,
      sku: `P-${tag}`,
      price: fields.price ?? '10.00',
      isDigital: fields.isDigital ?? false,
    })
    .returning();
  const [variant] = await deps.db
    .insert(variants)
    .values({
      productId: product!.id,
      name: fields.name ?? `Variant ${tag}`,
      sku: `V-${tag}`,
      price: fields.price ?? '10.00',
      stock: fields.stock ?? 100,
    })
    .returning();
  return { product: product!, variant: variant! };
}

export async function stockOf(deps: Deps, variantId: string): Promise<number> {
  const [row] = await deps.db
    .select({ stock: variants.stock })
    .from(variants)
    .where(eq(variants.id, variantId));
  return row!.stock;
}

export const ADDRESS = { line1: '1 Main St', city: 'Springfield', postal_code: '12345', country: 'US' };

/** A valid checkout body; `extra` adds or replaces fields (e.g. `items`). */
export const orderBody = (extra: Record<string, unknown> = {}) => ({
  billing_first_name: 'Ada',
  billing_last_name: 'Lovelace',
  billing_email: 'ada@example.com',
  billing_address: ADDRESS,
  shipping_address: ADDRESS,
  ...extra,
});

export function placeOrder(
  app: FastifyInstance,
  headers: Record<string, string>,
  extra: Record<string, unknown> = {},
) {
  return app.inject({ method: 'POST', url: '/api/orders/', headers, payload: orderBody(extra) });
}

/** `n` verified customers with access tokens, made in bulk (200 buyers take no 200 sign-ins). */
export async function manyCustomers(
  deps: Deps,
  n: number,
): Promise<Array<{ id: number; headers: Record<string, string> }>> {
  const made = await loadTestUsers(deps, n);
  return made.map(({ id, token }) => ({ id, headers: { authorization: `Bearer ${token}` } }));
}
