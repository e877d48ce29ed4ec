import { and, eq, gte, lte, sql, type SQL } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../../platform/auth.js';
import type { Executor } from '../../platform/db/client.js';
import type { Deps } from '../../platform/deps.js';
import { notFound } from '../../platform/errors/http-errors.js';
import { UUID_PATTERN } from '../../platform/ids.js';
import {
  choiceFilter,
  countAll,
  dateTimeFilter,
  decimalFilter,
  integerFilter,
  listPage,
  type ListSpec,
} from '../../platform/list/index.js';
import { orderView, orderViews } from './order-view.js';
import type { OrderView } from './schemas.js';
import { orders } from './tables.js';
import { ORDER_STATUSES } from './workflow.js';

/** Staff see every order, a customer their own: anyone else's, or a malformed id, is a 404. */
export async function orderVisibleTo(
  executor: Executor,
  principal: Principal,
  id: string,
): Promise<OrderView> {
  if (!UUID_PATTERN.test(id)) throw notFound();
  const view = await orderView(executor, id.toLowerCase());
  if (!view || (!principal.isStaff && view.user !== principal.userId)) throw notFound();
  return view;
}

export const orderListSpec = (staff: boolean): ListSpec => ({
  filters: {
    status: choiceFilter('Orders in this status.', ORDER_STATUSES, (v) => eq(orders.status, v)),
    created_after: dateTimeFilter('Placed at or after this time (ISO 8601).', (v) =>
      gte(orders.createdAt, v),
    ),
    created_before: dateTimeFilter('Placed at or before this time (ISO 8601).', (v) =>
      lte(orders.createdAt, v),
    ),
    min_total: decimalFilter('Total at least this.', (v) => gte(orders.totalAmount, v)),
    max_total: decimalFilter('Total at most this.', (v) => lte(orders.totalAmount, v)),
    ...(staff ? { user: integerFilter("The customer's user id.", (v) => eq(orders.userId, v)) } : {}),
  },
  searchFields: [orders.orderNumber, orders.billingEmail],
  ordering: { created_at: orders.createdAt, total_amount: orders.totalAmount },
  defaultOrdering: '-created_at',
  tieBreaker: orders.id,
});

/** `GET /api/orders/`: the whole orders (lines and history) of one page, in one statement. */
export function listOrders(deps: Deps, request: FastifyRequest, principal: Principal) {
  const mine: SQL | undefined = principal.isStaff ? undefined : eq(orders.userId, principal.userId);
  return listPage(request, orderListSpec(principal.isStaff), {
    count: async (q) =>
      (await deps.db.select({ count: countAll }).from(orders).where(and(mine, q.where)))[0]!.count,
    rows: (q) =>
      orderViews(
        deps.db,
        and(mine, q.where) ?? sql`true`,
        sql`ORDER BY ${sql.join(q.orderBy, sql`, `)} LIMIT ${q.limit} OFFSET ${q.offset}`,
      ),
  });
}
