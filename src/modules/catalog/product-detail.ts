import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Deps } from '../../platform/deps.js';
import type { Db } from '../../platform/db/client.js';
import { notFound } from '../../platform/errors/http-errors.js';
import { categoryView, type CategoryFields } from './categories.js';
import { imageView, type ImageFields } from './image-view.js';
import { products } from './tables.js';
import { UUID_PATTERN } from '../../platform/ids.js';
import { variantView, visibility, type VariantFields } from './products.js';

/** A nested row as JSON: the table's fields under their TypeScript names, timestamps as text. */
type AsJson<T extends { createdAt: Date }> = Omit<T, 'createdAt'> & { createdAt: string };

type CategoryJson = AsJson<CategoryFields>;
type VariantJson = AsJson<VariantFields>;
type ImageJson = AsJson<ImageFields>;

/**
 * A timestamp column as ISO 8601 text in UTC. Left to `json_build_object`, it would follow the
 * session's time zone, whose offsets can hold seconds (dates before 1900) that JavaScript's `Date`
 * cannot read. `column` is one of this file's own aliases, never input.
 */
const utcText = (column: string) =>
  sql.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);

/** The views want dates. */
const withDate = <T extends { createdAt: string }>(row: T) => ({
  ...row,
  createdAt: new Date(row.createdAt),
});

/**
 * The nested collections of the product row, as JSON arrays built by sub-selects of the same
 * statement; money stays text so it is never a float.
 */
function detailCollections(staff: boolean) {
  return {
    categories: sql<CategoryJson[]>`(SELECT coalesce(json_agg(json_build_object(
        'id', c.id, 'name', c.name, 'slug', c.slug, 'description', c.description,
        'parentId', c.parent_id, 'isActive', c.is_active, 'createdAt', ${utcText('c.created_at')}) ORDER BY c.name), '[]')
      FROM categories c JOIN product_categories pc ON pc.category_id = c.id
      WHERE pc.product_id = "products"."id" ${staff ? sql`` : sql`AND c.is_active`})`,
    variants: sql<VariantJson[]>`(SELECT coalesce(json_agg(json_build_object(
        'id', v.id, 'productId', v.product_id, 'name', v.name, 'sku', v.sku, 'price', v.price::text,
        'attributes', v.attributes, 'isActive', v.is_active, 'stock', v.stock,
        'lowStockThreshold', v.low_stock_threshold, 'createdAt', ${utcText('v.created_at')}) ORDER BY v.created_at, v.sku), '[]')
      FROM product_variants v
      WHERE v.product_id = "products"."id" AND v.deleted_at IS NULL ${staff ? sql`` : sql`AND v.is_active`})`,
    images: sql<ImageJson[]>`(SELECT coalesce(json_agg(json_build_object(
        'id', i.id, 'productId', i.product_id, 'file', i.file, 'thumbnail', i.thumbnail, 'altText', i.alt_text,
        'width', i.width, 'height', i.height, 'position', i.position, 'createdAt', ${utcText('i.created_at')}) ORDER BY i.position), '[]')
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
    categories: row.categories.map((c) => categoryView(withDate(c))),
    attributes: row.attributes,
    is_active: row.isActive,
    is_digital: row.isDigital,
    in_stock: row.variants.some((v) => v.isActive && v.stock > 0),
    weight: row.weight,
    dimensions: row.dimensions,
    variants: row.variants.map((v) => variantView(withDate(v), staff)),
    images: row.images.map((image) => imageView(deps, withDate(image))),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    ...(staff ? { deleted_at: row.deletedAt?.toISOString() ?? null } : {}),
  };
}
