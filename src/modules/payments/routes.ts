import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { requireUser, signedIn, staffOnly } from '../../platform/auth.js';
import type { Deps } from '../../platform/deps.js';
import { notFound } from '../../platform/errors/http-errors.js';
import { absentBodyIsEmpty } from '../../platform/http/conventions.js';
import { errors } from '../../platform/http/schemas.js';
import { respondIdempotently } from '../../platform/idempotency/index.js';
import { listQuerySchema, pageSchema } from '../../platform/list/index.js';
import { enabledGateways, GATEWAYS } from './gateways/index.js';
import { payOrder } from './pay.js';
import { listPayments, paymentListSpec, paymentView, paymentVisibleTo, PAYMENTS_SCOPE } from './read.js';
import { refundPayment } from './refund-payment.js';
import {
  GatewayParams,
  OrderParams,
  PaymentOut,
  PaymentParams,
  PayBody,
  PayOut,
  ReceivedOut,
  RefundBody,
  WebhookEventDoc,
  WebhookHeaders,
} from './schemas.js';
import { SIGNATURE_HEADER } from './nexus-webhook.js';
import { receiveWebhook } from './webhooks.js';

const bearer = [{ bearerAuth: [] }];
const doc = (summary: string) => ({ tags: ['payments'], summary, security: bearer });
const paymentsThrottle = { throttle: { scope: 'payments' } };
/** Webhook bodies are small JSON events; anything bigger is not one. */
const WEBHOOK_BODY_LIMIT = 64 * 1024;

/** SPEC §6's payments: paying an order, the payments list, refunds, and the gateways' webhooks. */
export async function paymentRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const enabled = enabledGateways(deps.config.payments.gateways);
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post(
    '/api/orders/:id/pay/',
    {
      preValidation: [signedIn, absentBodyIsEmpty],
      config: paymentsThrottle,
      schema: {
        ...doc(
          'Pay a pending order (its customer): 201 with the payment and its next action; 200 with the one already pending',
        ),
        params: OrderParams,
        body: PayBody,
        response: { 200: PayOut, 201: PayOut, ...errors(400, 401, 403, 404, 409, 422, 429, 502) },
      },
    },
    (request, reply) =>
      respondIdempotently(deps, request, reply, (tx) =>
        payOrder(deps, tx, requireUser(request), request.params.id, {
          name: request.body.gateway ?? 'sandbox',
          enabled,
        }),
      ),
  );

  r.get(
    '/api/payments/',
    {
      preValidation: signedIn,
      config: paymentsThrottle,
      schema: {
        ...doc('Payments: a customer’s own, every payment for staff (cached 30 s per audience)'),
        querystring: listQuerySchema(paymentListSpec),
        response: { 200: pageSchema(PaymentOut), ...errors(400, 401, 404, 429) },
      },
    },
    (request, reply) => {
      const principal = requireUser(request);
      return deps.responseCache.serve(
        request,
        reply,
        {
          scopes: [PAYMENTS_SCOPE],
          ttlSeconds: deps.config.cache.paymentsTtlSeconds,
          audience: principal.isStaff ? 'staff' : `user:${principal.userId}`,
        },
        () => listPayments(deps, request, principal),
      );
    },
  );

  r.get(
    '/api/payments/:id/',
    {
      preValidation: signedIn,
      config: paymentsThrottle,
      schema: {
        ...doc('One payment (its customer or staff; anyone else 404)'),
        params: PaymentParams,
        response: { 200: PaymentOut, ...errors(401, 404, 429) },
      },
    },
    async (request) => paymentView(await paymentVisibleTo(deps.db, requireUser(request), request.params.id)),
  );

  r.post(
    '/api/payments/:id/refund/',
    {
      preValidation: [staffOnly, absentBodyIsEmpty],
      config: paymentsThrottle,
      schema: {
        ...doc('Refund a payment (staff), all that is left or `amount`; the last of it refunds the order'),
        params: PaymentParams,
        body: RefundBody,
        response: { 200: PaymentOut, ...errors(400, 401, 403, 404, 409, 422, 429, 502) },
      },
    },
    (request, reply) =>
      respondIdempotently(deps, request, reply, (tx) =>
        refundPayment(deps, tx, requireUser(request), request.params.id, request.body),
      ),
  );

  // The signature is over the bytes as sent, so this route keeps the raw body: a parser of its own,
  // in a scope of its own, for every content type.
  await app.register((scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT },
      (_request, body, done) => done(null, body),
    );
    scope.withTypeProvider<TypeBoxTypeProvider>().post(
      '/api/payments/webhooks/:gateway/',
      {
        config: { throttle: false },
        attachValidation: true,
        schema: {
          tags: ['payments'],
          summary:
            `A gateway's event, signed in \`${SIGNATURE_HEADER}\`: 200 once verified (each event id handled once), ` +
            '400 `{"detail": "Invalid signature."}` before anything is read. Not throttled: the signature is the gate.',
          params: GatewayParams,
          headers: WebhookHeaders,
          body: WebhookEventDoc,
          response: { 200: ReceivedOut, ...errors(400, 404, 413) },
        },
      },
      (request) => {
        const gateway = GATEWAYS.get(request.params.gateway);
        if (!gateway) throw notFound();
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        return receiveWebhook(deps, gateway, body, request.headers);
      },
    );
    return Promise.resolve();
  });

  for (const gateway of enabled.values()) await gateway.routes?.(app, deps);
}
