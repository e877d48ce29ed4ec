/**
 * The catalog dataset on disk (the format of the benchmark data set): three CSV files and a
 * manifest. RFC 4180, header row, `\n` line ends, empty field = NULL, booleans `true`/`false`,
 * timestamps ISO 8601 UTC with microseconds, money with 2 decimals, compact JSON objects.
 */

export const FORMAT_VERSION = 1;

export const CATEGORIES_FILE = 'categories.csv';
export const PRODUCTS_FILE = 'products.csv';
export const VARIANTS_FILE = 'variants.csv';
export const MANIFEST_FILE = 'manifest.json';

export const CATEGORY_COLUMNS = [
  'id',
  'name',
  'slug',
  'description',
  'parent_slug',
  'is_active',
  'created_at',
] as const;

export const PRODUCT_COLUMNS = [
  'id',
  'name',
  'slug',
  'sku',
  'description',
  'short_description',
  'price',
  'compare_price',
  'is_active',
  'is_digital',
  'weight',
  'dimensions',
  'attributes',
  'created_at',
  'updated_at',
  'category_slugs',
] as const;

export const VARIANT_COLUMNS = [
  'id',
  'product_id',
  'name',
  'sku',
  'price',
  'attributes',
  'is_active',
  'stock',
  'created_at',
] as const;

/** Separator of the slugs in `products.csv` `category_slugs`. */
export const CATEGORY_SLUG_SEPARATOR = '|';

export interface CatalogManifest {
  format_version: number;
  seed: string;
  categories: number;
  products: number;
  variants: number;
  product_category_links: number;
  /** Id of the first row of products.csv. */
  first_product_id: string;
}
