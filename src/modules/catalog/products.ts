import { and, asc, eq, gte, inArray, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { Deps } from '../../deps.js';
import type { Executor } from '../../platform/db/client.js';
import { uniqueViolation } from '../../platform/db/errors.js';
import { transaction, type Tx } from '../../platform/db/transaction.js';
import { parseDecimal } from '../../platform/decimal.js';
import { badRequest, notFound, type FieldErrors } from '../../platform/errors/http-errors.js';
import {
  booleanFilter,
  dateTimeFilter,
  decimalFilter,
  parseFilter,
  textFilter,
} from '../../platform/list/filters.js';
import { countAll, listPage, type ListSpec } from '../../platform/list/list-query.js';
import { CATALOG_SCOPE } from './cache.js';
import { categoryView, subtreeIds } from './categories.js';
import { imageView } from './image-view.js';
import {
  categories,
  productCategories,
  productImages,
  products,
  variants,
  type Product,
  type Variant,
} from './schema.js';
import { slugify, UUID_PATTERN } from './slugs.js';

/** The five searched fields joined as the trigram index `products_search_trgm` has them. */
const searchText = sql`(${products.name} || ' ' || ${products.slug} || ' ' || ${products.description} || ' ' || ${products.shortDescription} || ' ' || ${products.sku})`;

const liveVariant = and(eq(variants.isActive, true), isNull(variants.deletedAt));

/**
 * A product is in stock when one of its active variants has stock. Written with explicit table
 * names: inside a subquery, an unqualified `id` would mean the variant's own.
 */
const inStock = sql<boolean>`EXISTS (SELECT 1 FROM product_variants pv WHERE pv.product_id = "products"."id"
  AND pv.is_active AND pv.deleted_at IS NULL AND pv.stock > 0)`;

/** `attr.color=red`: JSON containment, served by the GIN index. `42` or `true` also match those JSON values. */
function attributeCondition(key: string, value: string): SQL | undefined {
  if (key.length > 100) return sql`false`; // no attribute has such a key
  const candidates: unknown[] = [value];
  if (/^-?\d+(\.\d+)?$/.test(value)) candidates.push(Number(value));
  if (value === 'true' || value === 'false') candidates.push(value === 'true');
  return or(...candidates.map((v) => sql`${products.attributes} @> ${JSON.stringify({ [key]: v })}::jsonb`));
}

export function productListSpec(staff: boolean): ListSpec {
  return {
    filters: {
      min_price: decimalFilter('Price at least this.', (v) => gte(products.price, v)),
      max_price: decimalFilter('Price at most this.', (v) => lte(products.price, v)),
      created_after: dateTimeFilter('Created at or after this time (ISO 8601).', (v) =>
        gte(products.createdAt, v),
      ),
      created_before: dateTimeFilter('Created at or before this time (ISO 8601).', (v) =>
        lte(products.createdAt, v),
      ),
      category: textFilter(
        'Category slug; products of its sub-categories included.',
        (slug) =>
          sql`EXISTS (SELECT 1 FROM product_categories pc WHERE pc.product_id = "products"."id"
            AND pc.category_id IN ${subtreeIds(slug, !staff)})`,
      ),
      is_digital: booleanFilter('Digital (true) or physical (false) products.', (v) =>
        eq(products.isDigital, v),
      ),
      ...(staff
        ? {
            is_active: booleanFilter('Staff: active (true) or inactive (false).', (v) =>
              eq(products.isActive, v),
            ),
          }
        : {}),
    },
    prefixFilters: {
      'attr.': {
        description: '`attr.<key>=<value>` matches products whose attributes contain it.',
        apply: attributeCondition,
      },
    },
    searchFields: [searchText],
    ordering: {
      price: products.price,
      created_at: products.createdAt,
      updated_at: products.updatedAt,
      name: products.name,
    },
    defaultOrdering: '-created_at',
    tieBreaker: products.id,
  };
}

export const productListItem = {
  id: products.id,
  name: products.name,
  slug: products.slug,
  short_description: products.shortDescription,
  sku: products.sku,
  price: products.price,
  compare_price: products.comparePrice,
  is_active: products.isActive,
  is_digital: products.isDigital,
  in_stock: inStock,
  created_at: products.createdAt,
};

/** The public sees live, active products; staff everything live, and deleted ones with `include_deleted`. */
function visibility(staff: boolean, includeDeleted: boolean): SQL | undefined {
  if (!staff) return and(isNull(products.deletedAt), eq(products.isActive, true));
  return includeDeleted ? undefined : isNull(products.deletedAt);
}

const includeDeletedFlag = booleanFilter('', () => undefined);

/** Staff's `include_deleted`: a boolean like the filters, 400 when malformed. */
function includeDeletedParam(query: Record<string, unknown>): boolean {
  const raw = query.include_deleted;
  if (raw === undefined) return false;
  if (typeof raw !== 'string') throw badRequest({ include_deleted: ['Give this parameter once.'] });
  const parsed = parseFilter(includeDeletedFlag, raw);
  if (!parsed.ok) throw badRequest({ include_deleted: [parsed.error] });
  return parsed.value;
}

export function listProducts(deps: Deps, request: FastifyRequest, staff: boolean) {
  const includeDeleted = staff && includeDeletedParam(request.query as Record<string, unknown>);
  return listPage(request, productListSpec(staff), async (q) => {
    const where = and(visibility(staff, includeDeleted), q.where);
    const [rows, [total]] = await Promise.all([
      deps.db
        .select(productListItem)
        .from(products)
        .where(where)
        .orderBy(...q.orderBy)
        .limit(q.limit)
        .offset(q.offset),
      deps.db.select({ count: countAll }).from(products).where(where),
    ]);
    return { rows: rows.map((r) => ({ ...r, created_at: r.created_at.toISOString() })), count: total!.count };
  });
}

/** A product by id or slug, as the caller may see it; `live` leaves deleted ones out even for staff (writes). */
export async function findProduct(
  executor: Executor,
  idOrSlug: string,
  staff: boolean,
  { live = false }: { live?: boolean } = {},
): Promise<Product> {
  const key = UUID_PATTERN.test(idOrSlug)
    ? eq(products.id, idOrSlug.toLowerCase())
    : and(eq(products.slug, idOrSlug), isNull(products.deletedAt));
  const [row] = await executor
    .select()
    .from(products)
    .where(and(key, visibility(staff, !live)));
  if (!row) throw notFound();
  return row;
}

export function variantView(v: Variant, staff: boolean) {
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

/**
 * Every field, with nested categories, variants and images: four queries whatever the number of
 * variants (the product, then the three collections at once).
 */
export async function productDetail(deps: Deps, idOrSlug: string, staff: boolean) {
  const product = await findProduct(deps.db, idOrSlug, staff);
  const [cats, vars, images] = await Promise.all([
    deps.db
      .select()
      .from(categories)
      .innerJoin(productCategories, eq(productCategories.categoryId, categories.id))
      .where(eq(productCategories.productId, product.id))
      .orderBy(asc(categories.name)),
    deps.db
      .select()
      .from(variants)
      .where(and(eq(variants.productId, product.id), staff ? isNull(variants.deletedAt) : liveVariant))
      .orderBy(asc(variants.createdAt), asc(variants.sku)),
    deps.db
      .select()
      .from(productImages)
      .where(eq(productImages.productId, product.id))
      .orderBy(asc(productImages.position)),
  ]);
  const shownCategories = cats.map((c) => c.categories).filter((c) => staff || c.isActive);
  return {
    id: product.id,
    name: product.name,
    slug: product.slug,
    description: product.description,
    short_description: product.shortDescription,
    sku: product.sku,
    price: product.price,
    compare_price: product.comparePrice,
    categories: shownCategories.map(categoryView),
    attributes: product.attributes,
    is_active: product.isActive,
    is_digital: product.isDigital,
    in_stock: vars.some((v) => v.isActive && v.deletedAt === null && v.stock > 0),
    weight: product.weight,
    dimensions: product.dimensions,
    variants: vars.map((v) => variantView(v, staff)),
    images: images.map((image) => imageView(deps, image)),
    created_at: product.createdAt.toISOString(),
    updated_at: product.updatedAt.toISOString(),
    ...(staff ? { deleted_at: product.deletedAt?.toISOString() ?? null } : {}),
  };
}

export interface ProductInput {
  name?: string | undefined;
  slug?: string | undefined;
  description?: string | undefined;
  short_description?: string | undefined;
  sku?: string | undefined;
  price?: string | number | undefined;
  compare_price?: string | number | null | undefined;
  categories?: string[] | undefined;
  attributes?: Record<string, unknown> | undefined;
  is_active?: boolean | undefined;
  is_digital?: boolean | undefined;
  weight?: string | number | null | undefined;
  dimensions?: Record<string, unknown> | null | undefined;
}

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

function duplicateToFieldError(err: unknown): never {
  const constraint = uniqueViolation(err);
  if (constraint === 'products_slug_live_key')
    throw badRequest({ slug: ['product with this slug already exists.'] });
  if (constraint === 'products_sku_live_key')
    throw badRequest({ sku: ['product with this sku already exists.'] });
  throw err;
}

export async function createProduct(deps: Deps, input: ProductInput): Promise<Product> {
  const columns = productColumns(input);
  try {
    return await transaction(deps.db, async (tx) => {
      const [row] = await tx
        .insert(products)
        .values({
          ...columns,
          name: input.name!,
          slug: columns.slug!,
          sku: input.sku!,
          price: columns.price!,
        })
        .returning();
      await setCategories(tx, row!.id, input.categories);
      tx.afterCommit(() => deps.responseCache.invalidate(CATALOG_SCOPE));
      return row!;
    });
  } catch (err) {
    return duplicateToFieldError(err);
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
    return duplicateToFieldError(err);
  }
}

/** Soft delete: hidden from the public, kept for the orders that reference it. */
export async function deleteProduct(deps: Deps, product: Product): Promise<void> {
  await transaction(deps.db, async (tx) => {
    await tx.update(products).set({ deletedAt: deps.clock() }).where(eq(products.id, product.id));
    tx.afterCommit(() => deps.responseCache.invalidate(CATALOG_SCOPE));
  });
}
