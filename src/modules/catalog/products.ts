import { and, eq, gte, inArray, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { Deps } from '../../deps.js';
import type { Db, Executor } from '../../platform/db/client.js';
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
import { categorySubtree } from './categories.js';
import { mediaUrl } from './image-view.js';
import {
  categories,
  productCategories,
  productCounts,
  products,
  type Product,
  type Variant,
} from './schema.js';
import { slugify, UUID_PATTERN } from './slugs.js';

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

/**
 * Products linked to one of these categories. The ids are written into the statement as a
 * constant, not bound: PostgreSQL then estimates from the array statistics how many products
 * match and, ordering by price, walks the price index instead of gathering every match first.
 * Each category so gets a prepared statement of its own; there are few categories.
 */
function inCategories(ids: string[]): SQL {
  if (ids.length === 0) return sql`false`;
  if (!ids.every((id) => UUID_PATTERN.test(id))) throw new Error('category ids must be UUIDs');
  return sql`${products.categoryIds} && ${sql.raw(`'{${ids.join(',')}}'::uuid[]`)}`;
}

/**
 * The product list's filters, search and ordering. `subtrees` holds the ids below each `category`
 * slug the request names, read beforehand (`categorySubtrees`).
 */
export function productListSpec(staff: boolean, subtrees = new Map<string, string[]>()): ListSpec {
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
      category: textFilter('Category slug; products of its sub-categories included.', (slug) =>
        inCategories(subtrees.get(slug) ?? []),
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
    searchFields: [{ lowercased: products.searchDocument }],
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

/** The product_counts row that holds the unfiltered list's count for this audience. */
function countedAudience(staff: boolean, includeDeleted: boolean): string {
  if (!staff) return 'public';
  return includeDeleted ? 'all' : 'live';
}

/** The sub-trees the `category` parameter names: none when it is absent or malformed (then a 400). */
async function categorySubtrees(deps: Deps, query: Record<string, unknown>, staff: boolean) {
  const subtrees = new Map<string, string[]>();
  const slug = query.category;
  if (typeof slug === 'string' && slug !== '')
    subtrees.set(slug, await categorySubtree(deps.db, slug, !staff));
  return subtrees;
}

export async function listProducts(deps: Deps, request: FastifyRequest, staff: boolean) {
  const query = request.query as Record<string, unknown>;
  const includeDeleted = staff && includeDeletedParam(query);
  const subtrees = await categorySubtrees(deps, query, staff);
  return listPage(request, productListSpec(staff, subtrees), async (q) => {
    const where = and(visibility(staff, includeDeleted), q.where);
    // Unfiltered, the count is kept by triggers; filtered, it is counted.
    const countQuery =
      q.where === undefined
        ? deps.db
            .select({ count: productCounts.count })
            .from(productCounts)
            .where(eq(productCounts.audience, countedAudience(staff, includeDeleted)))
        : deps.db.select({ count: countAll }).from(products).where(where);
    const [rows, [total]] = await Promise.all([
      deps.db
        .select(productListItem)
        .from(products)
        .where(where)
        .orderBy(...q.orderBy)
        .limit(q.limit)
        .offset(q.offset),
      countQuery,
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
  const [row] = await executor
    .select()
    .from(products)
    .where(and(productKey(idOrSlug), visibility(staff, !live)));
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

/** `key` of a product: its id, or the slug of a live one. */
function productKey(idOrSlug: string): SQL | undefined {
  return UUID_PATTERN.test(idOrSlug)
    ? eq(products.id, idOrSlug.toLowerCase())
    : and(eq(products.slug, idOrSlug), isNull(products.deletedAt));
}

interface CategoryJson {
  id: string;
  name: string;
  slug: string;
  description: string;
  parent_id: string | null;
  is_active: boolean;
  created_at: string;
}

interface VariantJson {
  id: string;
  product_id: string;
  name: string;
  sku: string;
  price: string;
  attributes: Record<string, unknown>;
  is_active: boolean;
  stock: number;
  low_stock_threshold: number;
  created_at: string;
}

interface ImageJson {
  id: string;
  file: string;
  thumbnail: string;
  alt_text: string;
  width: number;
  height: number;
  position: number;
  created_at: string;
}

/** JSON timestamps come as PostgreSQL writes them; the API writes ISO 8601 in UTC, as elsewhere. */
const isoTime = (value: string) => new Date(value).toISOString();

/**
 * The nested collections of the product row, as JSON arrays built by sub-selects of the same
 * statement; money stays text so it is never a float.
 */
function detailCollections(staff: boolean) {
  return {
    categories: sql<CategoryJson[]>`(SELECT coalesce(json_agg(json_build_object(
        'id', c.id, 'name', c.name, 'slug', c.slug, 'description', c.description,
        'parent_id', c.parent_id, 'is_active', c.is_active, 'created_at', c.created_at) ORDER BY c.name), '[]')
      FROM categories c JOIN product_categories pc ON pc.category_id = c.id
      WHERE pc.product_id = "products"."id" ${staff ? sql`` : sql`AND c.is_active`})`,
    variants: sql<VariantJson[]>`(SELECT coalesce(json_agg(json_build_object(
        'id', v.id, 'product_id', v.product_id, 'name', v.name, 'sku', v.sku, 'price', v.price::text,
        'attributes', v.attributes, 'is_active', v.is_active, 'stock', v.stock,
        'low_stock_threshold', v.low_stock_threshold, 'created_at', v.created_at) ORDER BY v.created_at, v.sku), '[]')
      FROM product_variants v
      WHERE v.product_id = "products"."id" AND v.deleted_at IS NULL ${staff ? sql`` : sql`AND v.is_active`})`,
    images: sql<ImageJson[]>`(SELECT coalesce(json_agg(json_build_object(
        'id', i.id, 'file', i.file, 'thumbnail', i.thumbnail, 'alt_text', i.alt_text, 'width', i.width,
        'height', i.height, 'position', i.position, 'created_at', i.created_at) ORDER BY i.position), '[]')
      FROM product_images i WHERE i.product_id = "products"."id")`,
  };
}

/** The detail statement for one audience, looking the product up by id or by slug (`key`). */
function buildDetailQuery(db: Db, staff: boolean, by: 'id' | 'slug') {
  const key =
    by === 'id'
      ? eq(products.id, sql.placeholder('key'))
      : and(eq(products.slug, sql.placeholder('key')), isNull(products.deletedAt));
  return db
    .select({
      id: products.id,
      name: products.name,
      slug: products.slug,
      description: products.description,
      shortDescription: products.shortDescription,
      sku: products.sku,
      price: products.price,
      comparePrice: products.comparePrice,
      attributes: products.attributes,
      isActive: products.isActive,
      isDigital: products.isDigital,
      weight: products.weight,
      dimensions: products.dimensions,
      createdAt: products.createdAt,
      updatedAt: products.updatedAt,
      deletedAt: products.deletedAt,
      ...detailCollections(staff),
    })
    .from(products)
    .where(and(key, visibility(staff, true)))
    .prepare(`product_detail_${staff ? 'staff' : 'public'}_by_${by}`);
}

/** Built once per database and kind: the detail is the hottest read, and building SQL costs CPU. */
type DetailQuery = ReturnType<typeof buildDetailQuery>;
const detailQueries = new WeakMap<Db, Map<string, DetailQuery>>();

function detailQuery(db: Db, staff: boolean, by: 'id' | 'slug') {
  let built = detailQueries.get(db);
  if (!built) detailQueries.set(db, (built = new Map<string, DetailQuery>()));
  const kind = `${staff}:${by}`;
  let query = built.get(kind);
  if (!query) built.set(kind, (query = buildDetailQuery(db, staff, by)));
  return query;
}

/**
 * Every field, with nested categories, variants and images: one statement whatever the number of
 * variants, prepared once per connection.
 */
export async function productDetail(deps: Deps, idOrSlug: string, staff: boolean) {
  const byId = UUID_PATTERN.test(idOrSlug);
  const [row] = await detailQuery(deps.db, staff, byId ? 'id' : 'slug').execute({
    key: byId ? idOrSlug.toLowerCase() : idOrSlug,
  });
  if (!row) throw notFound();
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    description: row.description,
    short_description: row.shortDescription,
    sku: row.sku,
    price: row.price,
    compare_price: row.comparePrice,
    categories: row.categories.map((c) => ({
      id: c.id,
      name: c.name,
      slug: c.slug,
      description: c.description,
      parent: c.parent_id,
      is_active: c.is_active,
      created_at: isoTime(c.created_at),
    })),
    attributes: row.attributes,
    is_active: row.isActive,
    is_digital: row.isDigital,
    in_stock: row.variants.some((v) => v.is_active && v.stock > 0),
    weight: row.weight,
    dimensions: row.dimensions,
    variants: row.variants.map((v) => ({
      id: v.id,
      product: v.product_id,
      name: v.name,
      sku: v.sku,
      price: v.price,
      attributes: v.attributes,
      is_active: v.is_active,
      in_stock: v.is_active && v.stock > 0,
      ...(staff ? { stock: v.stock, low_stock_threshold: v.low_stock_threshold } : {}),
      created_at: isoTime(v.created_at),
    })),
    images: row.images.map((i) => ({
      id: i.id,
      product: row.id,
      image: mediaUrl(deps, row.id, i.file),
      thumbnail: mediaUrl(deps, row.id, i.thumbnail),
      alt_text: i.alt_text,
      width: i.width,
      height: i.height,
      position: i.position,
      created_at: isoTime(i.created_at),
    })),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    ...(staff ? { deleted_at: row.deletedAt?.toISOString() ?? null } : {}),
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
