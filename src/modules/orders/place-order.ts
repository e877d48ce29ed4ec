import { lockCartForCheckout, emptyCart } from '../cart/index.js';
import { takeStock, variantsForSale, type SaleVariant } from '../catalog/index.js';
import { lineTotal, priceLines } from '../pricing/index.js';
import type { Tx } from '../../platform/db/transaction.js';
import type { Deps } from '../../platform/deps.js';
import { badRequest, conflict } from '../../platform/errors/http-errors.js';
import { currentRequestId } from '../../platform/request-context.js';
import { SEND_ORDER_CONFIRMATION } from './emails.js';
import { newOrderNumber } from './order-number.js';
import { orderView } from './order-view.js';
import type { OrderView, PlaceOrderInput } from './schemas.js';
import { orderHistory, orderLines, orders } from './tables.js';
import { announceStatus } from './live.js';

export interface PlaceOrder {
  userId: number;
  input: PlaceOrderInput;
  idempotencyKey: string | null;
}

interface Wanted {
  variantId: string;
  quantity: number;
}

/** The lines to order: `items` as given (one per variant, summed), or the caller's cart. */
async function wantedLines(tx: Tx, { userId, input }: PlaceOrder) {
  if (input.items) {
    const sums = new Map<string, number>();
    for (const item of input.items) {
      const id = item.variant.toLowerCase();
      sums.set(id, (sums.get(id) ?? 0) + item.quantity);
    }
    return { cartId: null, lines: [...sums].map(([variantId, quantity]) => ({ variantId, quantity })) };
  }
  const cart = await lockCartForCheckout(tx, userId);
  return { cartId: cart?.cartId ?? null, lines: cart?.lines ?? [] };
}

/** Every line must name a variant the public can buy; a cart line that became unavailable blocks checkout. */
function checkAvailable(lines: Wanted[], variants: Map<string, SaleVariant>, fromCart: boolean): void {
  const unavailable = lines.filter((l) => !variants.get(l.variantId)?.available).map((l) => l.variantId);
  if (unavailable.length === 0) return;
  if (fromCart) {
    throw conflict('Some items in your cart are no longer available; remove them first.', { unavailable });
  }
  throw badRequest({ items: unavailable.map((id) => `Variant ${id} does not exist or is not available.`) });
}

/** An order number is random; the unique index settles a clash, and a new number is tried. */
async function insertOrder(tx: Tx, values: Omit<typeof orders.$inferInsert, 'orderNumber'>) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const [row] = await tx
      .insert(orders)
      .values({ ...values, orderNumber: newOrderNumber() })
      .onConflictDoNothing({ target: orders.orderNumber })
      .returning({ id: orders.id });
    if (row) return row.id;
  }
  throw new Error('five order numbers in a row were taken');
}

/**
 * Checkout, in the caller's transaction: the stock is taken with conditional updates (all or
 * nothing: a shortage anywhere rolls everything back, with every short variant named), then the
 * order, its lines (snapshots of name, SKU and price), its first history row and the confirmation
 * e-mail job are written, and the cart is emptied. Nothing is written unless all of it is.
 */
export async function placeOrder(deps: Deps, tx: Tx, order: PlaceOrder): Promise<OrderView> {
  const { input, userId } = order;
  const { cartId, lines } = await wantedLines(tx, order);
  if (lines.length === 0) throw badRequest({ non_field_errors: ['Your cart is empty.'] });

  const variants = await variantsForSale(
    tx,
    lines.map((l) => l.variantId),
  );
  checkAvailable(lines, variants, cartId !== null);
  const sale = lines.map((l) => ({ ...l, variant: variants.get(l.variantId)! }));
  const digitalOnly = sale.every((l) => l.variant.isDigital);
  if (!digitalOnly && !input.shipping_address) {
    throw badRequest({ shipping_address: ['This field is required unless every item is digital.'] });
  }

  const taken = await takeStock(deps, tx, lines);
  if (!taken.ok) throw conflict('Not enough stock.', { variants: taken.shortages });

  const totals = priceLines(
    sale.map((l) => ({
      unitPrice: l.variant.price,
      quantity: l.quantity,
      isDigital: l.variant.isDigital,
      available: true,
    })),
    null,
    deps.config.pricing,
  );
  const orderId = await insertOrder(tx, {
    userId,
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
  });
  await tx.insert(orderLines).values(
    sale.map((l) => ({
      orderId,
      variantId: l.variantId,
      productId: l.variant.productId,
      name:
        l.variant.name === l.variant.productName
          ? l.variant.name
          : `${l.variant.productName} — ${l.variant.name}`,
      sku: l.variant.sku,
      quantity: l.quantity,
      unitPrice: l.variant.price,
      totalPrice: lineTotal({ unitPrice: l.variant.price, quantity: l.quantity }),
    })),
  );
  const [history] = await tx
    .insert(orderHistory)
    .values({
      orderId,
      fromStatus: null,
      toStatus: 'pending',
      actorId: userId,
      reason: 'order placed',
      requestId: currentRequestId(),
      idempotencyKey: order.idempotencyKey,
    })
    .returning();
  await deps.jobs.enqueue(tx, SEND_ORDER_CONFIRMATION, { order_id: orderId });
  if (cartId) await emptyCart(tx, cartId, deps.clock());
  announceStatus(deps, tx, history!);
  return (await orderView(tx, orderId))!;
}
