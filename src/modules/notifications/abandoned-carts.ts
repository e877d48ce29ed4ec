import { transaction } from '../../platform/db/transaction.js';
import type { Deps } from '../../platform/deps.js';
import { defineJob } from '../../platform/jobs/registry.js';
import { renderEmail } from '../../platform/mail/template.js';
import { activeContacts, type Contact } from '../accounts/index.js';
import { cartForReminder, idleCarts, markReminded, type CartView, type IdleCart } from '../cart/index.js';
import type { Config } from '../../config.js';
import { sendOnce } from './deliveries.js';

export const PROCESS_ABANDONED_CARTS = 'process_abandoned_carts';
export const SEND_ABANDONED_CART_EMAIL = 'send_abandoned_cart_email';
const PAGE = 200;

/**
 * Schedules one reminder per cart whose last change is older than `ABANDONED_CART_AFTER` and not yet
 * reminded of, for carts with lines whose owner is active. Each page of carts is marked reminded and
 * its e-mail jobs written in one transaction (the outbox), so a reminder is scheduled exactly when
 * its mark commits, once per cart and change. Returns how many were scheduled.
 */
export async function processAbandonedCarts(deps: Deps): Promise<number> {
  const now = deps.clock();
  const before = new Date(now.getTime() - deps.config.notifications.abandonedCartAfterMs);
  let scheduled = 0;
  let after: IdleCart | null = null;
  for (;;) {
    const page = await idleCarts(deps.db, before, after, PAGE);
    if (page.length === 0) return scheduled;
    after = page.at(-1)!;
    const owners = await activeContacts(deps.db, [...new Set(page.map((c) => c.userId))]);
    const due = page.filter((c) => owners.has(c.userId));
    scheduled += await transaction(deps.db, async (tx) => {
      const marked = await markReminded(tx, due);
      for (const cart of marked) {
        await deps.jobs.enqueue(tx, SEND_ABANDONED_CART_EMAIL, {
          cart_id: cart.cartId,
          changed_at: cart.changedAt.toISOString(),
        });
      }
      return marked.length;
    });
    if (page.length < PAGE) return scheduled;
  }
}

export function abandonedCartEmail(
  to: Contact,
  cart: Pick<CartView, 'items' | 'total_amount' | 'item_count'>,
  config: Pick<Config, 'siteUrl' | 'shopName'>,
) {
  const lines = cart.items
    .filter((line) => line.available)
    .map(
      (line) =>
        `${line.quantity} × ${line.variant.product.name} — ${line.variant.name} (${line.variant.sku}): ${line.line_total}`,
    );
  return renderEmail(
    to.email,
    {
      subject: 'You left something in your cart',
      heading: 'Your cart is waiting',
      paragraphs: [
        `Hello ${to.name},`,
        `You left ${cart.item_count === 1 ? 'an item' : `${cart.item_count} items`} in your cart:`,
        ...lines,
        `Total ${cart.total_amount}.`,
      ],
      action: { label: 'Go to your cart', url: `${config.siteUrl}/cart/` },
      footnote: 'Prices and stock are today’s; they may change before you check out.',
    },
    config.shopName,
  );
}

/**
 * One reminder, at most once per cart and change (`abandoned-cart:<cart>:<change>`). Nothing is sent
 * if the cart changed since the reminder was scheduled (the customer came back), has nothing left
 * to buy, or its owner is no longer active.
 */
export async function sendAbandonedCartEmail(
  deps: Deps,
  cartId: string,
  changedAt: string,
): Promise<boolean> {
  return sendOnce(deps, `abandoned-cart:${cartId}:${changedAt}`, async (tx) => {
    const cart = await cartForReminder(deps, tx, cartId);
    if (!cart || cart.changedAt.toISOString() !== changedAt || cart.view.item_count === 0) return null;
    const owner = (await activeContacts(tx, [cart.userId])).get(cart.userId);
    return owner ? abandonedCartEmail(owner, cart.view, deps.config) : null;
  });
}

export const abandonedCartJobs = (config: Config) => [
  defineJob<Deps, Record<string, never>>({
    name: PROCESS_ABANDONED_CARTS,
    description: 'Schedule one reminder per cart with lines left untouched for ABANDONED_CART_AFTER',
    everyMs: config.notifications.abandonedCartIntervalMs,
    async run(_payload, { deps }) {
      const n = await processAbandonedCarts(deps);
      return `${n} reminder${n === 1 ? '' : 's'} scheduled`;
    },
  }),
  defineJob<Deps, { cart_id: string; changed_at: string }>({
    name: SEND_ABANDONED_CART_EMAIL,
    description: 'E-mail a cart’s owner its lines and total, once per cart and change',
    async run({ cart_id, changed_at }, { deps }) {
      return (await sendAbandonedCartEmail(deps, cart_id, changed_at)) ? 'sent' : 'nothing to send';
    },
  }),
];
