import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { emptyCart, lockCartForCheckout } from '../cart/index.js';
import { takeStock, type StockOutcome } from '../catalog/index.js';
import { lineTotal, priceLines, type Discount, type PricedLine } from '../pricing/index.js';
import { redeemCoupon, type CouponKey } from '../promotions/index.js';
import { toCents } from '../../platform/money.js';
import { queryRows } from '../../platform/db/client.js';
import type { Tx } from '../../platform/db/transaction.js';
import type { Deps } from '../../platform/deps.js';
import { badRequest, conflict, type HttpError } from '../../platform/errors/http-errors.js';
import { currentRequestId } from '../../platform/request-context.js';
import { SEND_ORDER_CONFIRMATION } from './emails.js';
import { newOrderNumber } from './order-number.js';
import { orderView } from './order-view.js';
import type { OrderView, PlaceOrderInput } from './schemas.js';
import { announceStatus } from './live.js';
import type { OrderHistoryRow, orders } from './tables.js';

export interface PlaceOrder {
  userId: number;
  input: PlaceOrderInput;
  idempotencyKey: string | null;
}

/**
 * The lines to order and the coupon to redeem: `items` as given (one per variant, summed) with the
 * body's `coupon`, or the caller's cart with the coupon applied to it.
 */
async function wantedLines(tx: Tx, { userId, input }: PlaceOrder) {
  if (input.items) {
    const sums = new Map<string, number>();
    for (const item of input.items) {
      const id = item.variant.toLowerCase();
      sums.set(id, (sums.get(id) ?? 0) + item.quantity);
    }
    const coupon: CouponKey | null = input.coupon === undefined ? null : { code: input.coupon };
    return {
      cartId: null,
      coupon,
      lines: [...sums].map(([variantId, quantity]) => ({ variantId, quantity })),
    };
  }
  if (input.coupon !== undefined) {
    throw badRequest({ coupon: ['Goes with `items`; a cart checkout uses the coupon applied to the cart.'] });
  }
  const cart = await lockCartForCheckout(tx, userId);
  const coupon: CouponKey | null = cart?.couponId == null ? null : { id: cart.couponId };
  return { cartId: cart?.cartId ?? null, coupon, lines: cart?.lines ?? [] };
}

/**
 * The coupon's discount, its use taken for this order in the same transaction (SPEC §6); a coupon
 * that no longer applies refuses the whole order (409 `coupon_invalid`), never a silent full price.
 */
async function couponDiscount(
  deps: Deps,
  tx: Tx,
  coupon: CouponKey | null,
  redeem: { userId: number; orderId: string; lines: PricedLine[]; fromCart: boolean },
): Promise<{ code: string | null; discount: Discount | null }> {
  if (coupon === null) return { code: null, discount: null };
  const subtotal = toCents(priceLines(redeem.lines, null, deps.config.pricing).subtotal);
  const redeemed = await redeemCoupon(deps, tx, {
    coupon,
    userId: redeem.userId,
    orderId: redeem.orderId,
    subtotal,
  });
  if (!redeemed.ok) {
    const remedy = redeem.fromCart ? ' Remove it from your cart to check out without it.' : '';
    throw conflict(`${redeemed.reason}${remedy}`, { code: 'coupon_invalid' });
  }
  return redeemed;
}

/** Why stock could not be taken: a line not for sale (a cart line blocks checkout), or a shortage. */
function refusal(outcome: Extract<StockOutcome, { ok: false }>, fromCart: boolean): HttpError {
  const { unavailable, shortages } = outcome;
  if (unavailable.length === 0) return conflict('Not enough stock.', { variants: shortages });
  if (fromCart) {
    return conflict('Some items in your cart are no longer available; remove them first.', { unavailable });
  }
  return badRequest({ items: unavailable.map((id) => `Variant ${id} does not exist or is not available.`) });
}

interface NewLine {
  variant_id: string;
  product_id: string;
  name: string;
  sku: string;
  quantity: number;
  unit_price: string;
  total_price: string;
}

/**
 * The order, its lines and its first history row in one statement (data-modifying CTEs): a
 * checkout holds its stock locks until commit, so every round trip saved is time other buyers of
 * the same variant do not wait. The order number is random; on a clash the statement writes
 * nothing (`ON CONFLICT DO NOTHING` feeds no row to the lines or the history) and another is drawn.
 */
async function writeOrder(
  tx: Tx,
  values: Omit<typeof orders.$inferInsert, 'orderNumber'> & { id: string },
  lines: NewLine[],
  history: { actorId: number; idempotencyKey: string | null },
): Promise<OrderHistoryRow> {
  const json = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const [row] = await queryRows<Omit<OrderHistoryRow, 'at'> & { at: Date | string }>(
      tx,
      sql`WITH o AS (
            INSERT INTO orders (id, order_number, user_id, subtotal, discount_amount, tax_amount, shipping_amount,
              total_amount, coupon_code, billing_first_name, billing_last_name, billing_email, billing_phone,
              billing_address, shipping_first_name, shipping_last_name, shipping_address, notes)
            VALUES (${values.id}, ${newOrderNumber()}, ${values.userId}, ${values.subtotal}, ${values.discountAmount},
              ${values.taxAmount}, ${values.shippingAmount}, ${values.totalAmount}, ${values.couponCode ?? null},
              ${values.billingFirstName},
              ${values.billingLastName}, ${values.billingEmail}, ${values.billingPhone}, ${json(values.billingAddress)},
              ${values.shippingFirstName}, ${values.shippingLastName},
              ${values.shippingAddress ? json(values.shippingAddress) : null}, ${values.notes})
            ON CONFLICT (order_number) DO NOTHING
            RETURNING id
          ), l AS (
            INSERT INTO order_lines (order_id, variant_id, product_id, name, sku, quantity, unit_price, total_price)
            SELECT o.id, x.variant_id, x.product_id, x.name, x.sku, x.quantity, x.unit_price, x.total_price
            FROM o, jsonb_to_recordset(${json(lines)}) AS x(variant_id uuid, product_id uuid, name text, sku text,
              quantity integer, unit_price numeric, total_price numeric)
          )
          INSERT INTO order_history (order_id, from_status, to_status, actor_id, reason, request_id, idempotency_key)
          SELECT o.id, NULL, 'pending', ${history.actorId}, 'order placed', ${currentRequestId()}, ${history.idempotencyKey}
          FROM o
          RETURNING id::int AS id, order_id::text AS "orderId", from_status AS "fromStatus", to_status AS "toStatus",
            at, actor_id AS "actorId", reason, request_id AS "requestId", idempotency_key AS "idempotencyKey"`,
    );
    if (row) return { ...row, at: new Date(row.at) };
  }
  throw new Error('five order numbers in a row were taken');
}

/**
 * Checkout, in the caller's transaction: the stock is taken with conditional updates (all or
 * nothing: a shortage anywhere rolls everything back, with every short variant named), the coupon
 * is re-checked and its use taken (under its row lock, after the stock: every checkout and cancel
 * takes variants before coupons), then the order, its lines (snapshots of name, SKU and price), its
 * first history row and the confirmation e-mail job are written, and the cart is emptied. Nothing
 * is written unless all of it is.
 */
export async function placeOrder(deps: Deps, tx: Tx, order: PlaceOrder): Promise<OrderView> {
  const { input, userId } = order;
  const { cartId, coupon, lines } = await wantedLines(tx, order);
  if (lines.length === 0) throw badRequest({ non_field_errors: ['Your cart is empty.'] });

  const taken = await takeStock(deps, tx, lines);
  if (!taken.ok) throw refusal(taken, cartId !== null);
  const sale = lines.map((l) => ({ ...l, variant: taken.variants.get(l.variantId)! }));
  // Checked after the stock (the transaction rolls back all the same): the sale says what is digital.
  if (!sale.every((l) => l.variant.isDigital) && !input.shipping_address) {
    throw badRequest({ shipping_address: ['This field is required unless every item is digital.'] });
  }

  const priced = sale.map((l) => ({
    unitPrice: l.variant.price,
    quantity: l.quantity,
    isDigital: l.variant.isDigital,
    available: true,
  }));
  // The id is drawn here: the coupon's redemption names the order before its row is written.
  const orderId = randomUUID();
  const redeemed = await couponDiscount(deps, tx, coupon, {
    userId,
    orderId,
    lines: priced,
    fromCart: cartId !== null,
  });
  const totals = priceLines(priced, redeemed.discount, deps.config.pricing);
  const history = await writeOrder(
    tx,
    {
      id: orderId,
      userId,
      couponCode: redeemed.code,
      subtotal: totals.subtotal,
      discountAmount: totals.discount_amount,
      taxAmount: totals.tax_amount,
      shippingAmount: totals.shipping_amount,
      totalAmount: totals.total_amount,
      billingFirstName: input.billing_first_name,
      billingLastName: input.billing_last_name,
      billingEmail: input.billing_email,
      billingPhone: input.billing_phone ?? '',
      billingAddress: input.billing_address,
      shippingFirstName: input.shipping_first_name ?? input.billing_first_name,
      shippingLastName: input.shipping_last_name ?? input.billing_last_name,
      shippingAddress: input.shipping_address ?? null,
      notes: input.notes ?? '',
    },
    sale.map((l) => ({
      variant_id: l.variantId,
      product_id: l.variant.productId,
      name:
        l.variant.name === l.variant.productName
          ? l.variant.name
          : `${l.variant.productName} — ${l.variant.name}`,
      sku: l.variant.sku,
      quantity: l.quantity,
      unit_price: l.variant.price,
      total_price: lineTotal({ unitPrice: l.variant.price, quantity: l.quantity }),
    })),
    { actorId: userId, idempotencyKey: order.idempotencyKey },
  );
  await deps.jobs.enqueue(tx, SEND_ORDER_CONFIRMATION, { order_id: orderId });
  if (cartId) await emptyCart(tx, cartId, deps.clock());
  announceStatus(deps, tx, history);
  return (await orderView(tx, orderId))!;
}
