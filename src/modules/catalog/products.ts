import { and, eq, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { Static } from 'typebox';
import type { Deps } from '../../platform/deps.js';
import type { Executor } from '../../platform/db/client.js';
import { uniqueViolationToFieldErrors, type UniqueFieldErrors } from '../../platform/db/errors.js';
import { transaction, type Tx } from '../../platform/db/transaction.js';
import { parseDecimal } from '../../platform/decimal.js';
import { badRequest, notFound, type FieldErrors } from '../../platform/errors/http-errors.js';
import { CATALOG_SCOPE } from './cache.js';
import type { ProductBody, ProductPatch } from './schemas.js';
import { categories, productCategories, products, type Product, type Variant } from './tables.js';
import { UUID_PATTERN } from '../../platform/ids.js';
import { slugify } from './slugs.js';

/**
 * The public sees live, active products; staff everything live, and deleted ones with
 * `include_deleted`. Written as the partial indexes' own predicate (`deleted_at IS NULL AND
 * is_active`), not `is_active = $1`: a prepared statement's generic plan cannot know that a
 * parameter is true, and could then use none of those indexes.
 */
export function visibility(staff: boolean, includeDeleted: boolean): SQL | undefined {
  if (!staff) return and(isNull(products.deletedAt), sql`${products.isActive}`);
  return includeDeleted ? undefined : isNull(products.deletedAt);
}

/** `key` of a product: its id, or the slug of a live one. */
export function productKey(idOrSlug: string): SQL | undefined {
  return UUID_PATTERN.test(idOrSlug)
    ? eq(products.id, idOrSlug.toLowerCase())
    : and(eq(products.slug, idOrSlug), isNull(products.deletedAt));
}

/** A product by id or slug, as the caller may see it; `live` leaves deleted ones out even for staff (writes). */
export async function findProduct(
  executor: Executor,
  idOrSlug: string,
  staff: boolean,
  { live = false }: { live?: boolean } = {},
): Promise<Product> {
  const [row] = await executor
    .select()
    .from(products)
    .where(and(productKey(idOrSlug), visibility(staff, !live)));
  if (!row) throw notFound();
  return row;
}

/** What a variant's view shows. */
export type VariantFields = Pick<
  Variant,
  | 'id'
  | 'productId'
  | 'name'
  | 'sku'
  | 'price'
  | 'attributes'
  | 'isActive'
  | 'stock'
  | 'lowStockThreshold'
  | 'createdAt'
>;

export function variantView(v: VariantFields, staff: boolean) {
  return {
    id: v.id,
    product: v.productId,
    name: v.name,
    sku: v.sku,
    price: v.price,
    attributes: v.attributes,
    is_active: v.isActive,
    in_stock: v.isActive && v.stock > 0,
    ...(staff ? { stock: v.stock, low_stock_threshold: v.lowStockThreshold } : {}),
    created_at: v.createdAt.toISOString(),
  };
}

/** A create's body has every required field; both go through the same checks. */
type ProductInput = Static<typeof ProductPatch>;

const MONEY = { maxDigits: 10, places: 2, min: 0 };
const WEIGHT = { maxDigits: 6, places: 2, min: 0 };

/** Checks the decimals and the price pair; returns the columns to write. */
function productColumns(input: ProductInput, current?: Product) {
  const errors: FieldErrors = {};
  const decimal = (field: string, value: string | number | null | undefined, rule: typeof MONEY) => {
    if (value === undefined || value === null) return value;
    const parsed = parseDecimal(value, rule);
    if ('error' in parsed) {
      errors[field] = [parsed.error];
      return undefined;
    }
    return parsed.value;
  };
  const price = decimal('price', input.price, MONEY);
  const comparePrice = decimal('compare_price', input.compare_price, MONEY);
  const weight = decimal('weight', input.weight, WEIGHT);
  const effectivePrice = price ?? current?.price;
  const effectiveCompare = comparePrice === undefined ? current?.comparePrice : comparePrice;
  if (!errors.price && !errors.compare_price && effectivePrice && effectiveCompare) {
    if (Number(effectiveCompare) <= Number(effectivePrice)) {
      errors.compare_price = ['Must be greater than the price.'];
    }
  }
  const slug = input.slug ?? (current ? undefined : slugify(input.name ?? ''));
  if (slug === '') errors.slug = ['Could not make a slug from the name; give one.'];
  if (Object.keys(errors).length > 0) throw badRequest(errors);
  return {
    name: input.name,
    slug,
    description: input.description,
    shortDescription: input.short_description,
    sku: input.sku,
    price: price ?? undefined,
    comparePrice,
    attributes: input.attributes,
    isActive: input.is_active,
    isDigital: input.is_digital,
    weight,
    dimensions: input.dimensions,
  };
}

/** Category ids for ids or slugs; an unknown one is a 400 naming it. */
async function resolveCategories(executor: Executor, refs: string[]): Promise<string[]> {
  if (refs.length === 0) return [];
  const ids = refs.filter((r) => UUID_PATTERN.test(r)).map((r) => r.toLowerCase());
  const slugs = refs.filter((r) => !UUID_PATTERN.test(r));
  const rows = await executor
    .select({ id: categories.id, slug: categories.slug })
    .from(categories)
    .where(
      or(
        ids.length ? inArray(categories.id, ids) : undefined,
        slugs.length ? inArray(categories.slug, slugs) : undefined,
      ),
    );
  const missing = refs.filter((r) => !rows.some((row) => row.id === r.toLowerCase() || row.slug === r));
  if (missing.length > 0) {
    throw badRequest({ categories: missing.map((r) => `Invalid pk "${r}" - object does not exist.`) });
  }
  return [...new Set(rows.map((row) => row.id))];
}

async function setCategories(tx: Tx, productId: string, refs: string[] | undefined): Promise<void> {
  if (refs === undefined) return;
  const ids = await resolveCategories(tx, refs);
  await tx.delete(productCategories).where(eq(productCategories.productId, productId));
  if (ids.length > 0) {
    await tx.insert(productCategories).values(ids.map((categoryId) => ({ productId, categoryId })));
  }
}

const PRODUCT_TAKEN: UniqueFieldErrors = {
  products_slug_live_key: ['slug', 'product with this slug already exists.'],
  products_sku_live_key: ['sku', 'product with this sku already exists.'],
};

export async function createProduct(deps: Deps, input: Static<typeof ProductBody>): Promise<Product> {
  const columns = productColumns(input);
  try {
    return await transaction(deps.db, async (tx) => {
      const [row] = await tx
        .insert(products)
        .values({
          ...columns,
          name: input.name,
          slug: columns.slug!,
          sku: input.sku,
          price: columns.price!,
        })
        .returning();
      await setCategories(tx, row!.id, input.categories);
      tx.afterCommit(() => deps.responseCache.invalidate(CATALOG_SCOPE));
      return row!;
    });
  } catch (err) {
    return uniqueViolationToFieldErrors(err, PRODUCT_TAKEN);
  }
}

export async function updateProduct(deps: Deps, product: Product, input: ProductInput): Promise<Product> {
  const columns = productColumns(input, product);
  try {
    return await transaction(deps.db, async (tx) => {
      const [row] = await tx
        .update(products)
        .set({ ...columns, updatedAt: deps.clock() })
        .where(eq(products.id, product.id))
        .returning();
      await setCategories(tx, product.id, input.categories);
      tx.afterCommit(() => deps.responseCache.invalidate(CATALOG_SCOPE));
      return row!;
    });
  } catch (err) {
    return uniqueViolationToFieldErrors(err, PRODUCT_TAKEN);
  }
}

/** Soft delete: hidden from the public, kept for the orders that reference it. */
export async function deleteProduct(deps: Deps, product: Product): Promise<void> {
  await transaction(deps.db, async (tx) => {
    await tx.update(products).set({ deletedAt: deps.clock() }).where(eq(products.id, product.id));
    tx.afterCommit(() => deps.responseCache.invalidate(CATALOG_SCOPE));
  });
}
