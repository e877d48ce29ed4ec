import type { MailMessage } from '../../platform/mail/mailer.js';
import { transaction, type Tx } from '../../platform/db/transaction.js';
import type { Deps } from '../../platform/deps.js';
import { notificationDeliveries } from './tables.js';

/**
 * Sends one notification at most once per `key`. The key is claimed in the transaction that sends:
 * a second run of the job (a retry after a crash, a duplicate hand-over, `jobs:run` at the same
 * moment) finds it and sends nothing; a send that fails rolls the claim back, so the retry sends.
 * `compose` returns null when there is nothing to send any more (the cart changed or emptied
 * meanwhile: that key can never be due again, so the claim stays). True when a message went out.
 */
export async function sendOnce(
  deps: Deps,
  key: string,
  compose: (tx: Tx) => Promise<MailMessage | null>,
): Promise<boolean> {
  return transaction(deps.db, async (tx) => {
    const [claimed] = await tx
      .insert(notificationDeliveries)
      .values({ key })
      .onConflictDoNothing()
      .returning({ key: notificationDeliveries.key });
    if (!claimed) return false;
    // Read through the claim's transaction: PGlite has one connection, which it holds.
    const message = await compose(tx);
    if (!message) return false;
    await deps.mailer.send(message);
    return true;
  });
}
