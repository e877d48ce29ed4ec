import { sql } from 'drizzle-orm';
import { queryRows, type Executor } from '../../platform/db/client.js';
import type { Tx } from '../../platform/db/transaction.js';
import type { Deps } from '../../platform/deps.js';
import { CATALOG_SCOPE } from './cache.js';

/** A variant as the cart and checkout see it: what it is, what it costs, and whether it can be bought. */
export interface SaleVariant {
  id: string;
  sku: string;
  name: string;
  price: string;
  stock: number;
  productId: string;
  productName: string;
  productSlug: string;
  isDigital: boolean;
  /** Active and live, and so is its product: the public could buy it. */
  available: boolean;
}

/** The variants with these ids (any that exist, live or not), keyed by id. */
export async function variantsForSale(executor: Executor, ids: string[]): Promise<Map<string, SaleVariant>> {
  if (ids.length === 0) return new Map();
  const rows = await queryRows<SaleVariant>(
    executor,
    sql`SELECT v.id::text AS id, v.sku, v.name, v.price::text AS price, v.stock,
               p.id::text AS "productId", p.name AS "productName", p.slug AS "productSlug",
               p.is_digital AS "isDigital",
               (v.is_active AND v.deleted_at IS NULL AND p.is_active AND p.deleted_at IS NULL) AS available
        FROM product_variants v JOIN products p ON p.id = v.product_id
        WHERE v.id = ANY(${`{${ids.join(',')}}`}::uuid[])`,
  );
  return new Map(rows.map((r) => [r.id, r]));
}

export interface StockRequest {
  variantId: string;
  quantity: number;
}

export interface Shortage {
  variant: string;
  requested: number;
  available: number;
}

/** Lines of one variant count together; the result is in id order, the order every writer locks in. */
function summed(lines: StockRequest[]): Array<[string, number]> {
  const totals = new Map<string, number>();
  for (const l of lines) totals.set(l.variantId, (totals.get(l.variantId) ?? 0) + l.quantity);
  return [...totals.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** What taking stock for an order came to: the variants sold (their stock as left), or why not. */
export type StockOutcome =
  | { ok: true; variants: Map<string, SaleVariant> }
  | { ok: false; unavailable: string[]; shortages: Shortage[] };

/** The columns of a `SaleVariant`, for `v` (product_variants) and `p` (its product). */
const saleColumns = sql`v.id::text AS id, v.sku, v.name, v.price::text AS price, v.stock,
  p.id::text AS "productId", p.name AS "productName", p.slug AS "productSlug", p.is_digital AS "isDigital"`;

/**
 * Takes the stock of an order, in the caller's transaction. Each variant is one conditional update,
 * `stock = stock - n WHERE stock >= n` on a live variant, so the database decides who gets the last
 * unit whatever the concurrency and however many processes; variants go in id order, so two orders
 * wait for each other instead of deadlocking. The update returns what the order needs of the
 * variant, so a sale reads nothing else. Every variant that could not be taken is reported, as not
 * for sale or as short (the caller rolls back). A variant that runs out makes the cached product
 * lists stale after commit (`in_stock`).
 */
export async function takeStock(deps: Deps, tx: Tx, lines: StockRequest[]): Promise<StockOutcome> {
  const sold = new Map<string, SaleVariant>();
  const unavailable: string[] = [];
  const shortages: Shortage[] = [];
  for (const [variantId, quantity] of summed(lines)) {
    const [taken] = await queryRows<Omit<SaleVariant, 'available'>>(
      tx,
      sql`UPDATE product_variants v SET stock = v.stock - ${quantity}, updated_at = now()
          FROM products p
          WHERE v.id = ${variantId} AND p.id = v.product_id AND v.stock >= ${quantity}
            AND v.is_active AND v.deleted_at IS NULL AND p.is_active AND p.deleted_at IS NULL
          RETURNING ${saleColumns}`,
    );
    if (taken) {
      sold.set(variantId, { ...taken, available: true });
      continue;
    }
    const now = (await variantsForSale(tx, [variantId])).get(variantId);
    if (!now?.available) unavailable.push(variantId);
    else shortages.push({ variant: variantId, requested: quantity, available: now.stock });
  }
  if (unavailable.length > 0 || shortages.length > 0) return { ok: false, unavailable, shortages };
  if ([...sold.values()].some((v) => v.stock === 0)) {
    tx.afterCommit(() => deps.responseCache.invalidate(CATALOG_SCOPE));
  }
  return { ok: true, variants: sold };
}

/**
 * Gives stock back (a cancelled order), in the caller's transaction and in id order. A variant back
 * above its low-stock threshold loses its alert flag (a trigger does it, for every writer).
 */
export async function returnStock(deps: Deps, tx: Tx, lines: StockRequest[]): Promise<void> {
  let backInStock = false;
  for (const [variantId, quantity] of summed(lines)) {
    const [row] = await queryRows<{ stock: number }>(
      tx,
      sql`UPDATE product_variants SET stock = stock + ${quantity}, updated_at = now()
          WHERE id = ${variantId} RETURNING stock`,
    );
    backInStock ||= row !== undefined && row.stock === quantity;
  }
  if (backInStock) tx.afterCommit(() => deps.responseCache.invalidate(CATALOG_SCOPE));
}
