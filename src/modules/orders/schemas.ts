import { Type, type Static } from 'typebox';
import { ORDER_STATUSES } from './workflow.js';

const Money = Type.String({ examples: ['19.99'] });
const Timestamp = Type.String({ format: 'date-time' });
const Name = Type.String({ minLength: 1, maxLength: 100 });
/** An address is the shop's own shape (street, city, …): a JSON object, bounded. */
const Address = Type.Record(Type.String({ maxLength: 50 }), Type.Unknown(), {
  minProperties: 1,
  maxProperties: 20,
  description: 'e.g. {"line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}',
});
const Status = Type.Union(
  ORDER_STATUSES.map((s) => Type.Literal(s)),
  { description: ORDER_STATUSES.join(', ') },
);

export const PlaceOrderBody = Type.Object(
  {
    billing_first_name: Name,
    billing_last_name: Name,
    billing_email: Type.String({ format: 'email', maxLength: 254 }),
    billing_phone: Type.Optional(Type.String({ maxLength: 30 })),
    billing_address: Address,
    shipping_first_name: Type.Optional(Name),
    shipping_last_name: Type.Optional(Name),
    shipping_address: Type.Optional(Address),
    notes: Type.Optional(Type.String({ maxLength: 2000 })),
    coupon: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description:
          'A coupon code for an `items` order (a cart checkout uses the coupon applied to the cart). ' +
          'Checked and redeemed with the order: one that cannot apply → 409 `coupon_invalid`.',
      }),
    ),
    items: Type.Optional(
      Type.Array(
        Type.Object(
          {
            variant: Type.String({ format: 'uuid' }),
            quantity: Type.Integer({ minimum: 1, maximum: 1000 }),
          },
          { additionalProperties: false },
        ),
        {
          minItems: 1,
          maxItems: 100,
          description: 'Order these instead of the cart (which is then left alone).',
        },
      ),
    ),
  },
  { additionalProperties: false },
);
export type PlaceOrderInput = Static<typeof PlaceOrderBody>;

export const StatusBody = Type.Object(
  { status: Status, reason: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false },
);
export type StatusInput = Static<typeof StatusBody>;

export const CancelBody = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false },
);

export const OrderLineOut = Type.Object({
  id: Type.String({ format: 'uuid' }),
  product_variant: Type.String({ format: 'uuid' }),
  product: Type.String({ format: 'uuid' }),
  name: Type.String(),
  sku: Type.String(),
  quantity: Type.Integer(),
  unit_price: Money,
  total_price: Money,
});

export const HistoryOut = Type.Object({
  from: Type.Union([Status, Type.Null()]),
  to: Status,
  at: Timestamp,
  by: Type.Union([Type.Integer(), Type.Null()], { description: 'A user id, or null for the system.' }),
  reason: Type.String(),
});

export const OrderOut = Type.Object({
  id: Type.String({ format: 'uuid' }),
  order_number: Type.String({ examples: ['NX-7KQ2M9'] }),
  user: Type.Integer(),
  status: Status,
  subtotal: Money,
  discount_amount: Money,
  tax_amount: Money,
  shipping_amount: Money,
  total_amount: Money,
  currency: Type.String(),
  coupon_code: Type.Union([Type.String(), Type.Null()]),
  billing_first_name: Type.String(),
  billing_last_name: Type.String(),
  billing_email: Type.String(),
  billing_phone: Type.String(),
  billing_address: Type.Record(Type.String(), Type.Unknown()),
  shipping_first_name: Type.String(),
  shipping_last_name: Type.String(),
  shipping_address: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  notes: Type.String(),
  items: Type.Array(OrderLineOut),
  history: Type.Array(HistoryOut),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type OrderView = Static<typeof OrderOut>;

/** 409 at checkout: not enough stock (every short variant), cart lines no longer for sale, or a coupon. */
export const CheckoutConflictBody = Type.Union([
  Type.Object({
    detail: Type.String(),
    variants: Type.Array(
      Type.Object({ variant: Type.String(), requested: Type.Integer(), available: Type.Integer() }),
    ),
  }),
  Type.Object({ detail: Type.String(), unavailable: Type.Array(Type.String({ format: 'uuid' })) }),
  Type.Object(
    { detail: Type.String(), code: Type.Literal('coupon_invalid') },
    { description: 'The coupon no longer applies; `detail` says why.' },
  ),
  Type.Object(
    { detail: Type.String() },
    { description: 'A request with this Idempotency-Key is in progress.' },
  ),
]);

export const BadMoveBody = Type.Object({
  detail: Type.String(),
  allowed: Type.Array(Status),
});
