import { and, asc, eq, isNull } from 'drizzle-orm';
import type { Static } from 'typebox';
import type { Deps } from '../../platform/deps.js';
import { uniqueViolationToFieldErrors, type UniqueFieldErrors } from '../../platform/db/errors.js';
import { transaction } from '../../platform/db/transaction.js';
import { parseDecimal } from '../../platform/decimal.js';
import { badRequest, notFound } from '../../platform/errors/http-errors.js';
import { CATALOG_SCOPE } from './cache.js';
import type { VariantBody, VariantPatch } from './schemas.js';
import { products, variants, type Product, type Variant } from './tables.js';
import { UUID_PATTERN } from '../../platform/ids.js';

type VariantInput = Static<typeof VariantPatch>;

export async function listVariants(deps: Deps, product: Product): Promise<Variant[]> {
  return deps.db
    .select()
    .from(variants)
    .where(and(eq(variants.productId, product.id), isNull(variants.deletedAt)))
    .orderBy(asc(variants.createdAt), asc(variants.sku));
}

export async function findVariant(deps: Deps, id: string): Promise<Variant> {
  if (!UUID_PATTERN.test(id)) throw notFound();
  const [row] = await deps.db
    .select()
    .from(variants)
    .innerJoin(products, eq(products.id, variants.productId))
    .where(and(eq(variants.id, id.toLowerCase()), isNull(variants.deletedAt), isNull(products.deletedAt)));
  if (!row) throw notFound();
  return row.product_variants;
}

function price(input: VariantInput): string | undefined {
  if (input.price === undefined) return undefined;
  const parsed = parseDecimal(input.price, { maxDigits: 10, places: 2, min: 0 });
  if ('error' in parsed) throw badRequest({ price: [parsed.error] });
  return parsed.value;
}

const VARIANT_TAKEN: UniqueFieldErrors = {
  product_variants_sku_live_key: ['sku', 'product variant with this sku already exists.'],
};

export async function createVariant(
  deps: Deps,
  product: Product,
  input: Static<typeof VariantBody>,
): Promise<Variant> {
  const value = price(input);
  try {
    return await transaction(deps.db, async (tx) => {
      const [row] = await tx
        .insert(variants)
        .values({
          productId: product.id,
          name: input.name,
          sku: input.sku,
          price: value!,
          attributes: input.attributes ?? {},
          isActive: input.is_active ?? true,
          stock: input.stock ?? 0,
          lowStockThreshold: input.low_stock_threshold ?? 5,
        })
        .returning();
      tx.afterCommit(() => deps.responseCache.invalidate(CATALOG_SCOPE));
      return row!;
    });
  } catch (err) {
    return uniqueViolationToFieldErrors(err, VARIANT_TAKEN);
  }
}

export async function updateVariant(deps: Deps, variant: Variant, input: VariantInput): Promise<Variant> {
  const value = price(input);
  try {
    return await transaction(deps.db, async (tx) => {
      const [row] = await tx
        .update(variants)
        .set({
          name: input.name,
          sku: input.sku,
          price: value,
          attributes: input.attributes,
          isActive: input.is_active,
          stock: input.stock,
          lowStockThreshold: input.low_stock_threshold,
          updatedAt: deps.clock(),
        })
        .where(eq(variants.id, variant.id))
        .returning();
      tx.afterCommit(() => deps.responseCache.invalidate(CATALOG_SCOPE));
      return row!;
    });
  } catch (err) {
    return uniqueViolationToFieldErrors(err, VARIANT_TAKEN);
  }
}

/** Soft delete: hidden everywhere, kept for the orders that reference it. */
export async function deleteVariant(deps: Deps, variant: Variant): Promise<void> {
  await transaction(deps.db, async (tx) => {
    await tx.update(variants).set({ deletedAt: deps.clock() }).where(eq(variants.id, variant.id));
    tx.afterCommit(() => deps.responseCache.invalidate(CATALOG_SCOPE));
  });
}
