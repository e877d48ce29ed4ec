import { eq } from 'drizzle-orm';
import type { FastifyRequest, FastifySchemaValidationError } from 'fastify';
import type { Deps } from '../../platform/deps.js';
import { foreignKeyViolation, uniqueViolationToFieldErrors } from '../../platform/db/errors.js';
import { parseDecimal } from '../../platform/decimal.js';
import { badRequest, conflict, notFound, type FieldErrors } from '../../platform/errors/http-errors.js';
import { validationErrorsToFields } from '../../platform/errors/validation.js';
import { serialIdOf } from '../../platform/ids.js';
import { booleanFilter, choiceFilter } from '../../platform/list/filters.js';
import { countAll, listPage, type ListSpec } from '../../platform/list/list-query.js';
import type { CouponInput } from './schemas.js';
import { COUPON_KINDS, coupons, type Coupon } from './tables.js';

export const couponView = (c: Coupon) => ({
  id: c.id,
  code: c.code,
  kind: c.kind,
  value: c.value,
  min_subtotal: c.minSubtotal,
  starts_at: c.startsAt?.toISOString() ?? null,
  ends_at: c.endsAt?.toISOString() ?? null,
  max_uses: c.maxUses,
  max_uses_per_user: c.maxUsesPerUser,
  is_active: c.isActive,
  times_used: c.timesUsed,
  created_at: c.createdAt.toISOString(),
});

export const couponListSpec: ListSpec = {
  filters: {
    is_active: booleanFilter('Only active (true) or inactive (false) coupons.', (v) =>
      eq(coupons.isActive, v),
    ),
    kind: choiceFilter('Only coupons of this kind.', COUPON_KINDS, (v) => eq(coupons.kind, v)),
  },
  searchFields: [coupons.code],
  ordering: { code: coupons.code, created_at: coupons.createdAt, times_used: coupons.timesUsed },
  defaultOrdering: '-created_at',
  tieBreaker: coupons.id,
};

export function listCoupons(deps: Deps, request: FastifyRequest) {
  return listPage(request, couponListSpec, {
    count: async (q) => (await deps.db.select({ count: countAll }).from(coupons).where(q.where))[0]!.count,
    rows: async (q) =>
      (
        await deps.db
          .select()
          .from(coupons)
          .where(q.where)
          .orderBy(...q.orderBy)
          .limit(q.limit)
          .offset(q.offset)
      ).map(couponView),
  });
}

export async function findCoupon(deps: Deps, id: string): Promise<Coupon> {
  const n = serialIdOf(id);
  if (n === null) throw notFound();
  const [row] = await deps.db.select().from(coupons).where(eq(coupons.id, n));
  if (!row) throw notFound();
  return row;
}

type Values = Omit<typeof coupons.$inferInsert, 'id' | 'timesUsed' | 'createdAt'>;

/**
 * The row a create or an edit would leave, checked as a whole (a PATCH of `kind` alone must still
 * fit the stored `value`; one of `ends_at` must still follow the stored `starts_at`). The schema's
 * errors come in too (routes validate with `attachValidation`), so one 400 names every bad field,
 * as DRF's serializers do; a field the schema refused is not judged again. The table's constraints
 * repeat these rules.
 */
function couponValues(input: CouponInput, current: Coupon | null, schemaErrors: FieldErrors = {}): Values {
  const errors: FieldErrors = { ...schemaErrors };
  const judged = (field: keyof CouponInput) => input[field] !== undefined && !schemaErrors[field];
  const decimal = (field: 'value' | 'min_subtotal', fallback: string) => {
    if (!judged(field)) return fallback;
    const parsed = parseDecimal(input[field]!, { maxDigits: field === 'value' ? 10 : 12, places: 2, min: 0 });
    if ('error' in parsed) {
      errors[field] = [parsed.error];
      return fallback;
    }
    return parsed.value;
  };
  const kind = schemaErrors.kind ? undefined : (input.kind ?? current?.kind);
  const value = decimal('value', current?.value ?? '0.00');
  const minSubtotal = decimal('min_subtotal', current?.minSubtotal ?? '0.00');
  if (!errors.value && (judged('value') || (input.kind !== undefined && kind !== undefined))) {
    if (Number(value) <= 0) errors.value = ['Ensure this value is greater than 0.'];
    else if (kind === 'percent' && Number(value) > 100)
      errors.value = ['A percent coupon takes at most 100 (%).'];
  }
  const date = (field: 'starts_at' | 'ends_at', stored: Date | null | undefined) => {
    if (schemaErrors[field]) return undefined;
    const raw = input[field];
    return raw === undefined ? (stored ?? null) : raw === null ? null : new Date(raw);
  };
  const startsAt = date('starts_at', current?.startsAt);
  const endsAt = date('ends_at', current?.endsAt);
  if (startsAt && endsAt && endsAt <= startsAt) errors.ends_at = ['Must be after starts_at.'];
  if (Object.keys(errors).length > 0) throw badRequest(errors);
  return {
    code: input.code ?? current!.code,
    kind: kind!,
    value,
    minSubtotal,
    startsAt: startsAt ?? null,
    endsAt: endsAt ?? null,
    maxUses: input.max_uses === undefined ? (current?.maxUses ?? null) : input.max_uses,
    maxUsesPerUser:
      input.max_uses_per_user === undefined ? (current?.maxUsesPerUser ?? null) : input.max_uses_per_user,
    isActive: input.is_active ?? current?.isActive ?? true,
  };
}

/**
 * The body's schema errors, when the route validated with `attachValidation`; a body that is not an
 * object at all is refused at once (there are no fields to judge).
 */
export function schemaErrorsOf(request: FastifyRequest): FieldErrors {
  const failed = request.validationError;
  if (!failed) return {};
  const errors = validationErrorsToFields(failed.validation as FastifySchemaValidationError[]);
  if (
    failed.validationContext !== 'body' ||
    typeof request.body !== 'object' ||
    request.body === null ||
    Array.isArray(request.body)
  ) {
    throw badRequest(errors);
  }
  return errors;
}

function codeTaken(err: unknown): never {
  return uniqueViolationToFieldErrors(err, {
    coupons_code_key: ['code', 'coupon with this code already exists.'],
  });
}

export async function createCoupon(
  deps: Deps,
  input: CouponInput,
  schemaErrors: FieldErrors,
): Promise<Coupon> {
  const now = deps.clock();
  const values = couponValues(input, null, schemaErrors);
  try {
    const [row] = await deps.db
      .insert(coupons)
      .values({ ...values, createdAt: now, updatedAt: now })
      .returning();
    return row!;
  } catch (err) {
    return codeTaken(err);
  }
}

/**
 * An edit applies to the checkouts after it: orders placed keep the discount they got, and
 * `max_uses` may go below `times_used` (the coupon is then used up; no use is taken back).
 */
export async function updateCoupon(
  deps: Deps,
  current: Coupon,
  input: CouponInput,
  schemaErrors: FieldErrors,
): Promise<Coupon> {
  const values = couponValues(input, current, schemaErrors);
  try {
    const [row] = await deps.db
      .update(coupons)
      .set({ ...values, updatedAt: deps.clock() })
      .where(eq(coupons.id, current.id))
      .returning();
    if (!row) throw notFound();
    return row;
  } catch (err) {
    return codeTaken(err);
  }
}

/** Only a coupon no order has used: the redemptions keep their coupon (deactivate it instead). */
export async function deleteCoupon(deps: Deps, coupon: Coupon): Promise<void> {
  try {
    await deps.db.delete(coupons).where(eq(coupons.id, coupon.id));
  } catch (err) {
    if (foreignKeyViolation(err) === 'coupon_redemptions_coupon_id_coupons_id_fk') {
      throw conflict('Orders have used this coupon, so it cannot be deleted; deactivate it instead.');
    }
    throw err;
  }
}
