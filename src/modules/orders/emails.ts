import { and, eq } from 'drizzle-orm';
import { transaction } from '../../platform/db/transaction.js';
import type { Deps } from '../../platform/deps.js';
import { renderEmail } from '../../platform/mail/template.js';
import { orderView } from './order-view.js';
import type { OrderView } from './schemas.js';
import { orderEmails } from './tables.js';
import type { OrderStatus } from './workflow.js';

export const SEND_ORDER_CONFIRMATION = 'send_order_confirmation';
export const SEND_ORDER_STATUS_EMAIL = 'send_order_status_email';

/** The changes the customer must hear of (SPEC §5); `refunded` is reached through payments. */
export const STATUS_EMAILS: readonly OrderStatus[] = ['shipped', 'cancelled', 'refunded'];

const STATUS_WORDS: Partial<Record<OrderStatus, { subject: string; line: string }>> = {
  shipped: { subject: 'has shipped', line: 'Good news: your order is on its way.' },
  cancelled: {
    subject: 'was cancelled',
    line: 'Your order was cancelled. Nothing more will be charged for it.',
  },
  refunded: { subject: 'was refunded', line: 'Your order was refunded to your original payment method.' },
};

const address = (value: Record<string, unknown> | null) =>
  value === null
    ? 'none (digital items)'
    : Object.values(value)
        .filter((v) => typeof v === 'string' || typeof v === 'number')
        .join(', ');

/** The order's lines, totals and addresses, as paragraphs of the shared layout (HTML and text). */
function orderParagraphs(order: OrderView): string[] {
  return [
    ...order.items.map((l) => `${l.quantity} × ${l.name} (${l.sku}) at ${l.unit_price}: ${l.total_price}`),
    `Subtotal ${order.subtotal}; discount ${order.discount_amount}${order.coupon_code ? ` (${order.coupon_code})` : ''}; tax ${order.tax_amount}; shipping ${order.shipping_amount}.`,
    `Total ${order.total_amount} ${order.currency}.`,
    `Billing: ${order.billing_first_name} ${order.billing_last_name}, ${address(order.billing_address)}.`,
    `Shipping: ${order.shipping_first_name} ${order.shipping_last_name}, ${address(order.shipping_address)}.`,
  ];
}

export function confirmationEmail(order: OrderView, shopName: string) {
  return renderEmail(
    order.billing_email,
    {
      subject: `Order ${order.order_number} confirmed`,
      heading: `Thank you for your order ${order.order_number}`,
      paragraphs: [
        `Hello ${order.billing_first_name},`,
        'We have received your order:',
        ...orderParagraphs(order),
      ],
    },
    shopName,
  );
}

export function statusEmail(order: OrderView, status: OrderStatus, shopName: string) {
  const words = STATUS_WORDS[status]!;
  return renderEmail(
    order.billing_email,
    {
      subject: `Order ${order.order_number} ${words.subject}`,
      heading: `Order ${order.order_number} ${words.subject}`,
      paragraphs: [`Hello ${order.billing_first_name},`, words.line, ...orderParagraphs(order)],
    },
    shopName,
  );
}

/**
 * Sends one e-mail of an order at most once. The `order_emails` row is claimed in the transaction
 * that sends: a second run of the job (a retry after a crash, a duplicate hand-over) finds it and
 * sends nothing; a send that fails rolls the claim back, so the retry sends.
 */
async function sendOnce(
  deps: Deps,
  orderId: string,
  kind: string,
  render: (order: OrderView) => ReturnType<typeof renderEmail>,
) {
  await transaction(deps.db, async (tx) => {
    const [claimed] = await tx
      .insert(orderEmails)
      .values({ orderId, kind })
      .onConflictDoNothing()
      .returning({ kind: orderEmails.kind });
    if (!claimed) return;
    const order = await orderView(tx, orderId);
    if (!order) {
      await tx.delete(orderEmails).where(and(eq(orderEmails.orderId, orderId), eq(orderEmails.kind, kind)));
      return;
    }
    await deps.mailer.send(render(order));
  });
}

export const sendOrderConfirmation = (deps: Deps, orderId: string) =>
  sendOnce(deps, orderId, 'confirmation', (order) => confirmationEmail(order, deps.config.shopName));

export async function sendOrderStatusEmail(deps: Deps, orderId: string, status: OrderStatus): Promise<void> {
  if (!STATUS_EMAILS.includes(status)) return;
  await sendOnce(deps, orderId, status, (order) => statusEmail(order, status, deps.config.shopName));
}
