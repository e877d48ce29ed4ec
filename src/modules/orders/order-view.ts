import { sql, type SQL } from 'drizzle-orm';
import { queryRows, type Executor } from '../../platform/db/client.js';
import type { OrderView } from './schemas.js';

/** A timestamp as ISO 8601 in UTC (the session's zone could give offsets JavaScript cannot read). */
const utc = (column: string) =>
  sql.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);

/**
 * The whole order as the API shows it, in one statement: the lines and the history come as JSON
 * arrays from sub-selects, money as text (never a float). `where` and `tail` (ordering, paging)
 * apply to `orders` (unaliased, so the list toolkit's columns name it).
 */
export function orderViewQuery(where: SQL, tail: SQL = sql``): SQL {
  return sql`SELECT orders.id::text AS id, orders.order_number, orders.user_id AS "user", orders.status,
      orders.subtotal::text AS subtotal, orders.discount_amount::text AS discount_amount, orders.tax_amount::text AS tax_amount,
      orders.shipping_amount::text AS shipping_amount, orders.total_amount::text AS total_amount, orders.currency, orders.coupon_code,
      orders.billing_first_name, orders.billing_last_name, orders.billing_email, orders.billing_phone, orders.billing_address,
      orders.shipping_first_name, orders.shipping_last_name, orders.shipping_address, orders.notes,
      (SELECT coalesce(json_agg(json_build_object(
          'id', l.id, 'product_variant', l.variant_id, 'product', l.product_id, 'name', l.name, 'sku', l.sku,
          'quantity', l.quantity, 'unit_price', l.unit_price::text, 'total_price', l.total_price::text)
        ORDER BY l.name, l.id), '[]') FROM order_lines l WHERE l.order_id = orders.id) AS items,
      (SELECT coalesce(json_agg(json_build_object(
          'from', h.from_status, 'to', h.to_status, 'at', ${utc('h.at')}, 'by', h.actor_id, 'reason', h.reason)
        ORDER BY h.id), '[]') FROM order_history h WHERE h.order_id = orders.id) AS history,
      ${utc('orders.created_at')} AS created_at, ${utc('orders.updated_at')} AS updated_at
    FROM orders WHERE ${where} ${tail}`;
}

export const orderViews = (executor: Executor, where: SQL, tail?: SQL) =>
  queryRows<OrderView>(executor, orderViewQuery(where, tail));

export async function orderView(executor: Executor, orderId: string): Promise<OrderView | undefined> {
  const [view] = await orderViews(executor, sql`orders.id = ${orderId}`);
  return view;
}
