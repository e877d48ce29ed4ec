import { createHash, randomBytes } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { requireUser, signedIn } from '../../../platform/auth.js';
import { transaction } from '../../../platform/db/transaction.js';
import type { Deps } from '../../../platform/deps.js';
import { conflict, notFound } from '../../../platform/errors/http-errors.js';
import { errors } from '../../../platform/http/schemas.js';
import { defineJob } from '../../../platform/jobs/registry.js';
import type { GatewayEvent, PaymentGateway } from '../gateway.js';
import { SIGNATURE_HEADER, signatureHeader, verifyNexusWebhook } from '../nexus-webhook.js';
import { payments } from '../tables.js';
import { receiveWebhook } from '../webhooks.js';

export const DELIVER_SANDBOX_EVENT = 'deliver_sandbox_event';

const OutcomeBody = Type.Object(
  { outcome: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]) },
  { additionalProperties: false },
);

/**
 * The built-in test gateway: it plays the bank. `next_action.url` is its page; posting the outcome
 * there makes it sign an event and deliver it, from a job (asynchronously, as a real gateway's
 * webhook arrives), through the same verification and handling as `POST /api/payments/webhooks/
 * sandbox/`. Its refunds are accepted at once.
 */
export const sandbox: PaymentGateway = {
  name: 'sandbox',

  createPayment(deps) {
    const reference = `sbx_${randomBytes(12).toString('hex')}`;
    const url = `${deps.config.siteUrl}/api/payments/sandbox/${reference}/`;
    return Promise.resolve({ reference, nextAction: { type: 'sandbox', url } });
  },

  refund(_deps, { refundKey }) {
    // The same key gives the same reference: a retried call is one refund, as at a real gateway.
    const digest = createHash('sha256').update(refundKey).digest('hex').slice(0, 24);
    return Promise.resolve({ reference: `sbx_re_${digest}` });
  },

  verifyWebhook(deps, rawBody, headers) {
    return verifyNexusWebhook(deps.config.payments.webhookSecrets, rawBody, headers, deps.clock());
  },

  routes(app: FastifyInstance, deps: Deps) {
    app.withTypeProvider<TypeBoxTypeProvider>().post(
      '/api/payments/sandbox/:reference/',
      {
        preValidation: signedIn,
        config: { throttle: { scope: 'payments' } },
        schema: {
          tags: ['payments'],
          summary: 'The sandbox bank: post the outcome of a pending payment (its customer or staff) → 202',
          security: [{ bearerAuth: [] }],
          params: Type.Object({ reference: Type.String({ maxLength: 100 }) }),
          body: OutcomeBody,
          response: {
            202: Type.Object({ detail: Type.String(), event: Type.String() }),
            ...errors(400, 401, 404, 409, 429),
          },
        },
      },
      async (request, reply) => {
        const principal = requireUser(request);
        const event = await transaction(deps.db, async (tx) => {
          const [payment] = await tx
            .select()
            .from(payments)
            .where(and(eq(payments.gateway, 'sandbox'), eq(payments.reference, request.params.reference)));
          if (!payment || (!principal.isStaff && payment.userId !== principal.userId)) throw notFound();
          if (payment.status !== 'pending') throw conflict(`This payment is already ${payment.status}.`);
          const event: GatewayEvent = {
            id: `evt_${randomBytes(12).toString('hex')}`,
            type: request.body.outcome === 'succeeded' ? 'payment.succeeded' : 'payment.failed',
            reference: payment.reference,
            amount: payment.amount,
            currency: payment.currency,
          };
          await deps.jobs.enqueue(tx, DELIVER_SANDBOX_EVENT, { event });
          return event;
        });
        return reply
          .code(202)
          .send({ detail: 'The bank will post the outcome to the webhook shortly.', event: event.id });
      },
    );
    return Promise.resolve();
  },

  jobs: [
    defineJob<Deps, { event: GatewayEvent }>({
      name: DELIVER_SANDBOX_EVENT,
      description: "The sandbox bank signs a payment's outcome and delivers it to the webhook handling",
      async run({ event }, { deps }) {
        const { id, type, reference, amount, currency } = event;
        const rawBody = Buffer.from(JSON.stringify({ id, type, data: { reference, amount, currency } }));
        const signature = signatureHeader(
          deps.config.payments.webhookSecrets.slice(0, 1),
          rawBody,
          deps.clock(),
        );
        await receiveWebhook(deps, sandbox, rawBody, { [SIGNATURE_HEADER]: signature });
      },
    }),
  ],
};
