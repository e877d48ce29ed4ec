import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../src/deps.js';
import { SIGNATURE_HEADER, signatureHeader } from '../../src/modules/payments/nexus-webhook.js';

/** `POST /api/orders/<id>/pay/` as the order's customer. */
export function pay(
  app: FastifyInstance,
  headers: Record<string, string>,
  orderId: string,
  body: unknown = {},
) {
  return app.inject({ method: 'POST', url: `/api/orders/${orderId}/pay/`, headers, payload: body as object });
}

/** A webhook event in SPEC §6's shape, with a fresh id unless given. */
export const webhookEvent = (
  type: string,
  data: { reference: string; amount: string; currency?: string },
  id = `evt_${randomBytes(8).toString('hex')}`,
) => ({ id, type, data: { currency: 'USD', ...data } });

/**
 * Delivers `body` (an object, sent as JSON, or raw text) to the sandbox's webhook route, signed with
 * the app's secret at `at` (default: now); `signature` replaces the header (null: no header).
 */
export function deliverWebhook(
  app: FastifyInstance,
  deps: Deps,
  body: unknown,
  options: { at?: Date; secrets?: string[]; signature?: string | null; gateway?: string } = {},
) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const signature =
    options.signature === undefined
      ? signatureHeader(
          options.secrets ?? deps.config.payments.webhookSecrets,
          Buffer.from(raw),
          options.at ?? new Date(),
        )
      : options.signature;
  return app.inject({
    method: 'POST',
    url: `/api/payments/webhooks/${options.gateway ?? 'sandbox'}/`,
    headers: {
      'content-type': 'application/json',
      ...(signature === null ? {} : { [SIGNATURE_HEADER]: signature }),
    },
    payload: raw,
  });
}
