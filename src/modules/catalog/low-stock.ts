import { sql } from 'drizzle-orm';
import { queryRows } from '../../platform/db/client.js';
import type { Tx } from '../../platform/db/transaction.js';

export interface LowStockVariant {
  variantId: string;
  product: string;
  variant: string;
  sku: string;
  stock: number;
  threshold: number;
}

/**
 * For the low-stock alert, in its transaction: flags every live variant (active, not deleted, of a
 * product not deleted) at or under its threshold and not yet alerted, and returns them. The flag is
 * the alert's "once": a conditional update, so two runs at once flag each variant for one of them; it
 * clears when the stock rises above the threshold again (a trigger, for every writer), so the next
 * drop alerts again. The rows are locked in id order, skipping any a checkout holds right now (the
 * next run takes it): the job neither deadlocks with checkouts nor waits for them.
 */
export function claimLowStockVariants(tx: Tx): Promise<LowStockVariant[]> {
  return queryRows<LowStockVariant>(
    tx,
    sql`WITH due AS (
          SELECT v.id FROM product_variants v JOIN products p ON p.id = v.product_id
          WHERE p.deleted_at IS NULL AND v.deleted_at IS NULL AND v.is_active
            AND v.stock <= v.low_stock_threshold AND NOT v.low_stock_alerted
          ORDER BY v.id FOR NO KEY UPDATE OF v SKIP LOCKED
        )
        UPDATE product_variants v SET low_stock_alerted = true
        FROM due, products p
        WHERE v.id = due.id AND p.id = v.product_id
          AND v.stock <= v.low_stock_threshold AND NOT v.low_stock_alerted
        RETURNING v.id::text AS "variantId", p.name AS product, v.name AS variant, v.sku, v.stock,
          v.low_stock_threshold AS threshold`,
  );
}
