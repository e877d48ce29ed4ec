import type { IncomingHttpHeaders } from 'node:http';
import { and, eq } from 'drizzle-orm';
import { transaction } from '../../platform/db/transaction.js';
import type { Deps } from '../../platform/deps.js';
import { HttpError } from '../../platform/errors/http-errors.js';
import type { PaymentGateway } from './gateway.js';
import { settleEvent } from './settle.js';
import { webhookEvents } from './tables.js';

export const invalidSignature = () => new HttpError(400, { detail: 'Invalid signature.' });

/**
 * A webhook delivery, from the route or the sandbox's bank: the signature is checked over the raw
 * bytes before anything is parsed or read (400 otherwise), then, in one transaction, the event's
 * row is written (`ON CONFLICT DO NOTHING` on gateway and event id) before any effect. A redelivery
 * finds the row, or waits for the first delivery's transaction and then finds it, and does nothing:
 * each event is handled once however often and however concurrently it comes. An event whose
 * handling fails rolls back with its row, so the gateway's retry handles it.
 */
export async function receiveWebhook(
  deps: Deps,
  gateway: PaymentGateway,
  rawBody: Buffer,
  headers: IncomingHttpHeaders,
): Promise<{ received: true }> {
  const verified = gateway.verifyWebhook(deps, rawBody, headers);
  if (!verified.ok) {
    if (verified.reason === 'signature') throw invalidSignature();
    throw new HttpError(400, { detail: verified.detail });
  }
  const { event, payload } = verified;
  await transaction(deps.db, async (tx) => {
    const [first] = await tx
      .insert(webhookEvents)
      .values({ gateway: gateway.name, eventId: event.id, type: event.type, payload })
      .onConflictDoNothing()
      .returning({ id: webhookEvents.eventId });
    if (!first) return;
    const outcome = await settleEvent(deps, tx, gateway, event);
    await tx
      .update(webhookEvents)
      .set({ outcome })
      .where(and(eq(webhookEvents.gateway, gateway.name), eq(webhookEvents.eventId, event.id)));
  });
  return { received: true };
}
