import { Type } from 'typebox';
import { MAX_LINE_QUANTITY } from './tables.js';

const UUID_ANY_CASE = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const Money = Type.String({ examples: ['19.99'] });
const Uuid = Type.String({ format: 'uuid' });

/** 1..1000, a JSON integer: `"3"` is refused (no type coercion), as are 0, -1 and 1001. */
const Quantity = (description: string) =>
  Type.Integer({ minimum: 1, maximum: MAX_LINE_QUANTITY, description });

export const AddItemBody = Type.Object(
  {
    // The pattern, not only the format: ajv's `uuid` format also takes a `urn:uuid:` prefix. (JSON
    // Schema patterns have no flags, hence both cases spelt out.)
    variant: Type.String({
      format: 'uuid',
      pattern: UUID_ANY_CASE,
      'x-error': 'Must be a valid UUID.',
      description: 'The variant to add; adding one already in the cart adds to its line.',
    }),
    quantity: Quantity('How many to add; the line’s new total must also be at most 1000.'),
  },
  { additionalProperties: false },
);

export const ChangeItemBody = Type.Object(
  { quantity: Quantity('The line’s new quantity (not an increment).') },
  { additionalProperties: false },
);

/** Malformed ids are a 404 (checked by the use case), so the schema bounds the length only. */
export const LineParams = Type.Object({
  id: Type.String({ maxLength: 100, description: 'A cart line id.' }),
});

export const CartLineOut = Type.Object({
  id: Uuid,
  variant: Type.Object({
    id: Uuid,
    sku: Type.String(),
    name: Type.String(),
    price: Money,
    product: Type.Object({ id: Uuid, name: Type.String(), slug: Type.String() }),
  }),
  quantity: Type.Integer(),
  unit_price: { ...Money, description: 'The variant’s current price, read at every request.' },
  line_total: { ...Money, description: '`unit_price × quantity`, also for an unavailable line.' },
  available: Type.Boolean({
    description:
      'False once the variant (or its product) is inactive or deleted: the line stays, counts in no ' +
      'total, and must be removed before checkout.',
  }),
});

export const ApplyCouponBody = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 100, description: 'Matched case-insensitively.' }) },
  { additionalProperties: false },
);

export const CouponOut = Type.Object({
  code: Type.String(),
  kind: Type.String({ description: 'percent or fixed' }),
  value: Money,
});

export const CartOut = Type.Object({
  id: Uuid,
  items: Type.Array(CartLineOut),
  coupon: Type.Union([CouponOut, Type.Null()], {
    description:
      'The coupon applied, or null. One that stopped applying (expired, used up, the subtotal fell ' +
      'under its minimum) stays, with `discount_amount` 0.00, and checkout refuses the cart (409 ' +
      '`coupon_invalid`, with the reason) until it is removed or applies again.',
  }),
  subtotal: Money,
  discount_amount: Money,
  tax_amount: Money,
  shipping_amount: Money,
  total_amount: Money,
  item_count: Type.Integer({ description: 'The sum of the quantities of the available lines.' }),
  updated_at: Type.String({ format: 'date-time' }),
});
