import { Type, type Static } from 'typebox';
import { EVENT_TYPES } from './gateway.js';
import { PAYMENT_STATUSES } from './tables.js';

const Money = Type.String({ examples: ['10.00'] });
const Timestamp = Type.String({ format: 'date-time' });

export const PaymentOut = Type.Object({
  id: Type.Integer(),
  order: Type.String({ format: 'uuid' }),
  user: Type.Integer(),
  gateway: Type.String(),
  amount: Money,
  currency: Type.String(),
  status: Type.String({ description: PAYMENT_STATUSES.join(', ') }),
  refunded_amount: { ...Money, description: 'What has been refunded so far; never more than `amount`.' },
  reference: Type.String({ description: "The gateway's id of the payment." }),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const NextActionOut = Type.Object(
  { type: Type.String(), url: Type.String() },
  { description: 'What the customer does next: for the sandbox, post the outcome to `url`.' },
);

export const PayOut = Type.Object({ payment: PaymentOut, next_action: NextActionOut });

export const PayBody = Type.Object(
  { gateway: Type.Optional(Type.String({ minLength: 1, maxLength: 50, description: 'Default `sandbox`.' })) },
  { additionalProperties: false },
);

export const RefundBody = Type.Object(
  {
    amount: Type.Optional(
      Type.Union([Type.Number(), Type.String({ maxLength: 20 })], {
        examples: ['5.00'],
        description: 'Default: what is left to refund. More than 0, two places at most.',
      }),
    ),
    reason: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type RefundInput = Static<typeof RefundBody>;

export const OrderParams = Type.Object({ id: Type.String({ maxLength: 100, description: 'An order id.' }) });
export const PaymentParams = Type.Object({
  id: Type.String({ maxLength: 100, description: 'A payment id.' }),
});
export const GatewayParams = Type.Object({ gateway: Type.String({ maxLength: 50 }) });
export const ReceivedOut = Type.Object({ received: Type.Literal(true) });

/**
 * For the OpenAPI document only: the webhook's handler reads the raw bytes (the signature is over
 * them), so the route sets the parsed body's validation aside (`attachValidation`).
 */
export const WebhookEventDoc = Type.Object(
  {
    id: Type.String({ examples: ['evt_1a2b3c'], description: 'Unique per event: each is handled once.' }),
    type: Type.Union(EVENT_TYPES.map((t) => Type.Literal(t))),
    data: Type.Object({
      reference: Type.String({ description: "The gateway's id of the payment (or of the refund)." }),
      amount: Type.String({ examples: ['10.00'] }),
      currency: Type.String({ examples: ['USD'] }),
    }),
  },
  {
    description:
      'A signed event; `Nexus-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.',
  },
);
export const WebhookHeaders = Type.Object({
  'nexus-signature': Type.String({
    description: 't=<unix seconds>,v1=<hex HMAC-SHA256> (several v1 allowed)',
  }),
});
