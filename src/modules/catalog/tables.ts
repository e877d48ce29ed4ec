import { sql, type SQL } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  uuid,
  type AnyPgColumn,
} from 'drizzle-orm/pg-core';
import { timestamptz } from '../../platform/db/columns.js';

/** Money and weights stay decimal strings end to end: never floating point. */
const decimal = (name: string, precision: number) => numeric(name, { precision, scale: 2 });

export const categories = pgTable(
  'categories',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    slug: text('slug').notNull(),
    description: text('description').notNull().default(''),
    parentId: uuid('parent_id').references((): AnyPgColumn => categories.id, { onDelete: 'restrict' }),
    isActive: boolean('is_active').notNull().default(true),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('categories_slug_key').on(t.slug), index('categories_parent_idx').on(t.parentId)],
);

export const products = pgTable(
  'products',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    slug: text('slug').notNull(),
    description: text('description').notNull().default(''),
    shortDescription: text('short_description').notNull().default(''),
    sku: text('sku').notNull(),
    price: decimal('price', 10).notNull(),
    comparePrice: decimal('compare_price', 10),
    attributes: jsonb('attributes').$type<Record<string, unknown>>().notNull().default({}),
    isActive: boolean('is_active').notNull().default(true),
    isDigital: boolean('is_digital').notNull().default(false),
    weight: decimal('weight', 6),
    dimensions: jsonb('dimensions').$type<Record<string, unknown>>(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
    /** Soft delete: hidden everywhere but staff lists with `include_deleted`; orders keep pointing here. */
    deletedAt: timestamptz('deleted_at'),
    /**
     * The five searched fields, joined by spaces and lower-cased once on write: a search term has
     * no spaces, so it occurs in one of the fields exactly when it occurs here, and `LIKE` on
     * lower-cased text is what `ILIKE` does, without lower-casing every candidate row per query.
     */
    searchDocument: text('search_document')
      .notNull()
      .generatedAlwaysAs(
        (): SQL =>
          sql`lower(name || ' ' || slug || ' ' || description || ' ' || short_description || ' ' || sku)`,
      ),
    /**
     * The product's categories, kept equal to its product_categories rows by triggers (migration
     * 0003), so the category filter is one GIN lookup that combines with the price index instead
     * of a join with every link row.
     */
    categoryIds: uuid('category_ids')
      .array()
      .notNull()
      .default(sql`'{}'`),
  },
  (t) => [
    // Uniqueness ignores deleted rows, so a slug or SKU can be used again after a delete.
    uniqueIndex('products_slug_live_key')
      .on(t.slug)
      .where(sql`deleted_at IS NULL`),
    uniqueIndex('products_sku_live_key')
      .on(t.sku)
      .where(sql`deleted_at IS NULL`),
    // Every ordering of the public list (live, active rows), with the id tie-break. Staff lists,
    // which include inactive and deleted rows, are rare and small enough to sort.
    index('products_public_created_idx')
      .on(t.createdAt, t.id)
      .where(sql`deleted_at IS NULL AND is_active`),
    index('products_public_price_idx')
      .on(t.price, t.id)
      .where(sql`deleted_at IS NULL AND is_active`),
    index('products_public_updated_idx')
      .on(t.updatedAt, t.id)
      .where(sql`deleted_at IS NULL AND is_active`),
    index('products_public_name_idx')
      .on(t.name, t.id)
      .where(sql`deleted_at IS NULL AND is_active`),
    index('products_attributes_gin').using('gin', t.attributes.op('jsonb_path_ops')),
    index('products_search_document_trgm').using('gin', t.searchDocument.op('gin_trgm_ops')),
    index('products_category_ids_gin').using('gin', t.categoryIds),
    check('products_price_positive', sql`${t.price} >= 0`),
  ],
);

/**
 * How many products each list shows unfiltered (`public`: live and active; `live`: not deleted;
 * `all`), kept exact by statement triggers on products (migration 0003): an unfiltered list
 * reads its count here instead of counting every row on each request. Only writes that change a
 * product's visibility touch these rows.
 */
export const productCounts = pgTable('product_counts', {
  audience: text('audience').primaryKey(),
  count: bigint('count', { mode: 'number' }).notNull(),
});

/**
 * (category, price, product) for every live, active product in each of its categories, kept by a
 * statement trigger on products (migration 0008) from the row's `price` and `category_ids`. The
 * public list's count for a category sub-tree and a price range is then an index-only range scan
 * of this primary key per category, instead of a visit of every matching product row.
 */
export const publicCategoryPrices = pgTable(
  'public_category_prices',
  {
    categoryId: uuid('category_id').notNull(),
    price: decimal('price', 10).notNull(),
    productId: uuid('product_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.categoryId, t.price, t.productId] })],
);

export const productCategories = pgTable(
  'product_categories',
  {
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    categoryId: uuid('category_id')
      .notNull()
      .references(() => categories.id, { onDelete: 'restrict' }),
  },
  (t) => [
    primaryKey({ columns: [t.productId, t.categoryId] }),
    index('product_categories_category_idx').on(t.categoryId),
  ],
);

export const variants = pgTable(
  'product_variants',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    sku: text('sku').notNull(),
    price: decimal('price', 10).notNull(),
    attributes: jsonb('attributes').$type<Record<string, unknown>>().notNull().default({}),
    isActive: boolean('is_active').notNull().default(true),
    stock: integer('stock').notNull().default(0),
    lowStockThreshold: integer('low_stock_threshold').notNull().default(5),
    /** Set once the low-stock e-mail has named this variant; cleared when stock rises above the threshold. */
    lowStockAlerted: boolean('low_stock_alerted').notNull().default(false),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
    deletedAt: timestamptz('deleted_at'),
  },
  (t) => [
    uniqueIndex('product_variants_sku_live_key')
      .on(t.sku)
      .where(sql`deleted_at IS NULL`),
    index('product_variants_product_idx').on(t.productId),
    index('product_variants_attributes_gin').using('gin', t.attributes.op('jsonb_path_ops')),
    check('product_variants_stock_nonnegative', sql`${t.stock} >= 0`),
    check('product_variants_price_positive', sql`${t.price} >= 0`),
  ],
);

export const productImages = pgTable(
  'product_images',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    /** File names under the media directory. */
    file: text('file').notNull(),
    thumbnail: text('thumbnail').notNull(),
    contentType: text('content_type').notNull(),
    width: integer('width').notNull(),
    height: integer('height').notNull(),
    altText: text('alt_text').notNull().default(''),
    position: integer('position').notNull().default(0),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [index('product_images_product_idx').on(t.productId, t.position)],
);

export type Category = typeof categories.$inferSelect;
export type Product = typeof products.$inferSelect;
export type Variant = typeof variants.$inferSelect;
export type ProductImage = typeof productImages.$inferSelect;
