import { randomUUID } from 'node:crypto';
import type { Config } from '../../config.js';
import { transaction } from '../../platform/db/transaction.js';
import type { Deps } from '../../platform/deps.js';
import { defineJob } from '../../platform/jobs/registry.js';
import { renderEmail } from '../../platform/mail/template.js';
import { activeContacts, activeStaffContacts, type Contact } from '../accounts/index.js';
import { claimLowStockVariants, type LowStockVariant } from '../catalog/index.js';
import { sendOnce } from './deliveries.js';

export const UPDATE_LOW_STOCK_ALERTS = 'update_low_stock_alerts';
export const SEND_LOW_STOCK_ALERT = 'send_low_stock_alert';

/**
 * Flags the variants newly at or under their threshold and, in the same transaction, schedules one
 * e-mail listing them to every active staff user. Without any active staff nothing is flagged (so
 * the alert waits for someone to read it). Returns how many variants and recipients.
 */
export async function updateLowStockAlerts(deps: Deps): Promise<{ variants: number; staff: number }> {
  return transaction(deps.db, async (tx) => {
    const staff = await activeStaffContacts(tx);
    if (staff.length === 0) return { variants: 0, staff: 0 };
    const variants = (await claimLowStockVariants(tx)).sort(
      (a, b) => a.product.localeCompare(b.product) || a.sku.localeCompare(b.sku),
    );
    if (variants.length === 0) return { variants: 0, staff: staff.length };
    const alert = randomUUID();
    for (const member of staff) {
      await deps.jobs.enqueue(tx, SEND_LOW_STOCK_ALERT, { alert, user_id: member.id, variants });
    }
    return { variants: variants.length, staff: staff.length };
  });
}

export function lowStockEmail(to: Contact, variants: LowStockVariant[], shopName: string) {
  return renderEmail(
    to.email,
    {
      subject: `Low stock: ${variants.length} variant${variants.length === 1 ? '' : 's'}`,
      heading: 'Stock is running low',
      paragraphs: [
        `Hello ${to.name},`,
        `${variants.length === 1 ? 'This variant is' : 'These variants are'} at or under the low-stock threshold:`,
        ...variants.map(
          (v) => `${v.product} — ${v.variant} (${v.sku}): ${v.stock} left, threshold ${v.threshold}`,
        ),
      ],
      footnote:
        'You will hear again about a variant once its stock has gone above the threshold and back down.',
    },
    shopName,
  );
}

/** One alert to one staff user, at most once (`low-stock:<alert>:<user>`); nothing if they are no longer active. */
export async function sendLowStockAlert(
  deps: Deps,
  payload: { alert: string; user_id: number; variants: LowStockVariant[] },
): Promise<boolean> {
  return sendOnce(deps, `low-stock:${payload.alert}:${payload.user_id}`, async (tx) => {
    const to = (await activeContacts(tx, [payload.user_id])).get(payload.user_id);
    return to ? lowStockEmail(to, payload.variants, deps.config.shopName) : null;
  });
}

export const lowStockJobs = (config: Config) => [
  defineJob<Deps, Record<string, never>>({
    name: UPDATE_LOW_STOCK_ALERTS,
    description: 'E-mail every active staff user the variants newly at or under their low-stock threshold',
    everyMs: config.notifications.lowStockIntervalMs,
    async run(_payload, { deps }) {
      const { variants, staff } = await updateLowStockAlerts(deps);
      if (staff === 0) return 'no active staff to alert';
      return `${variants} variant${variants === 1 ? '' : 's'} alerted to ${staff} staff`;
    },
  }),
  defineJob<Deps, { alert: string; user_id: number; variants: LowStockVariant[] }>({
    name: SEND_LOW_STOCK_ALERT,
    description: 'E-mail one staff user a low-stock alert, once',
    async run(payload, { deps }) {
      return (await sendLowStockAlert(deps, payload)) ? 'sent' : 'nothing to send';
    },
  }),
];
