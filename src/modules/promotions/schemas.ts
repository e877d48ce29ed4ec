import { Type, type Static } from 'typebox';
import { MAX_SERIAL_ID } from '../../platform/ids.js';
import { COUPON_KINDS } from './tables.js';

/** DRF's DecimalField takes a JSON number or a numeric string; answers are always strings. */
const Decimal = (description: string) =>
  Type.Union([Type.Number(), Type.String({ maxLength: 20 })], { examples: ['10.00'], description });
const Money = Type.String({ examples: ['10.00'] });
const Timestamp = Type.String({ format: 'date-time' });
const Limit = (description: string) =>
  Type.Union([Type.Integer({ minimum: 1, maximum: MAX_SERIAL_ID }), Type.Null()], { description });

export const CODE_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]*$';

export const CouponBody = Type.Object(
  {
    code: Type.String({
      minLength: 1,
      maxLength: 50,
      pattern: CODE_PATTERN,
      'x-error': 'Use letters, digits, hyphens and underscores only, starting with a letter or digit.',
      description: 'Unique, matched case-insensitively (SAVE10 and save10 are one code).',
    }),
    kind: Type.Union(
      COUPON_KINDS.map((k) => Type.Literal(k)),
      { description: '`percent` of the subtotal, or a `fixed` amount off it.' },
    ),
    value: Decimal('percent: 0 < value ≤ 100; fixed: > 0. Two decimal places at most.'),
    min_subtotal: Type.Optional(
      Decimal('The subtotal the cart needs for the coupon to apply (default 0.00).'),
    ),
    starts_at: Type.Optional(
      Type.Union([Timestamp, Type.Null()], { description: 'Valid from (inclusive).' }),
    ),
    ends_at: Type.Optional(
      Type.Union([Timestamp, Type.Null()], { description: 'Valid until (exclusive); after `starts_at`.' }),
    ),
    max_uses: Type.Optional(Limit('Uses in all (null: unlimited). A cancelled order gives its use back.')),
    max_uses_per_user: Type.Optional(Limit('Uses per customer (null: unlimited).')),
    is_active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const CouponPatch = Type.Partial(CouponBody, { additionalProperties: false });
export type CouponInput = Static<typeof CouponPatch>;

export const CouponOut = Type.Object({
  id: Type.Integer(),
  code: Type.String(),
  kind: Type.String({ description: COUPON_KINDS.join(', ') }),
  value: Money,
  min_subtotal: Money,
  starts_at: Type.Union([Timestamp, Type.Null()]),
  ends_at: Type.Union([Timestamp, Type.Null()]),
  max_uses: Type.Union([Type.Integer(), Type.Null()]),
  max_uses_per_user: Type.Union([Type.Integer(), Type.Null()]),
  is_active: Type.Boolean(),
  times_used: Type.Integer({ description: 'Read-only: the uses held by orders that stand.' }),
  created_at: Timestamp,
});

export const CouponParams = Type.Object({ id: Type.String({ maxLength: 100, description: 'A coupon id.' }) });
