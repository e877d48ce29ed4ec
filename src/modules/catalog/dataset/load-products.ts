import { sql } from 'drizzle-orm';
import { queryRows } from '../../../platform/db/client.js';
import type { Tx } from '../../../platform/db/transaction.js';
import { CATEGORY_SLUG_SEPARATOR, PRODUCT_COLUMNS, PRODUCTS_FILE } from './format.js';
import { recordset, type ImportState } from './import-state.js';
import type { BatchOutcome, Lined, TableLoader } from './pipeline.js';
import { RowChecker } from './row-checks.js';
import { upsertColumns } from './upsert-columns.js';

type Column = (typeof PRODUCT_COLUMNS)[number];

interface ProductRow {
  /** The file's id; the stored id differs when the SKU belongs to an existing product. */
  id: string;
  name: string;
  slug: string;
  sku: string;
  description: string;
  short_description: string;
  price: string;
  compare_price: string | null;
  attributes: Record<string, unknown>;
  is_active: boolean;
  is_digital: boolean;
  weight: string | null;
  dimensions: Record<string, unknown> | null;
  created_at: string;
  updated_at: string;
  categoryIds: string[];
}

const UPSERT_COLUMNS =
  'id uuid, name text, slug text, sku text, description text, short_description text, ' +
  'price numeric(10,2), compare_price numeric(10,2), attributes jsonb, is_active boolean, ' +
  'is_digital boolean, weight numeric(6,2), dimensions jsonb, created_at timestamptz, updated_at timestamptz, ' +
  'category_ids uuid[]';

/**
 * Columns the file sets: an update happens only when one of them differs. `category_ids` is
 * written here, sorted as the link triggers sort it, so that inserting the links finds every
 * product's array already right instead of rewriting each product row a second time.
 */
const COMPARED =
  'name, slug, description, short_description, price, compare_price, attributes, is_active, ' +
  'is_digital, weight, dimensions, created_at, updated_at, category_ids';
const columns = upsertColumns(COMPARED);

export interface LinkCounts {
  inserted: number;
  deleted: number;
}

/**
 * products.csv, upserted by SKU among live products (`updated_at` comes from the file), and each
 * product's category links replaced by the file's.
 */
export function productLoader(state: ImportState): TableLoader<Column, ProductRow> & { links: LinkCounts } {
  const seenIds = new Map<string, number>();
  const seenSkus = new Map<string, number>();
  const seenSlugs = new Map<string, number>();
  const links: LinkCounts = { inserted: 0, deleted: 0 };

  const duplicate = (
    c: RowChecker<Column>,
    column: Column,
    seen: Map<string, number>,
    value: string | null,
  ) => {
    const first = value === null ? undefined : seen.get(value);
    if (first !== undefined) c.problem(column, `duplicate of line ${first}`);
  };

  return {
    file: PRODUCTS_FILE,
    columns: PRODUCT_COLUMNS,
    links,

    check(fields, line) {
      const c = new RowChecker<Column>(fields);
      const id = c.uuid('id');
      const name = c.text('name', { max: 200, required: true });
      const slug = c.slug('slug');
      const sku = c.text('sku', { max: 100, required: true });
      const description = c.text('description') ?? '';
      const shortDescription = c.text('short_description', { max: 300 }) ?? '';
      const price = c.decimal('price', 10, true);
      const comparePrice = c.decimal('compare_price', 10, false);
      const isActive = c.bool('is_active', true);
      const isDigital = c.bool('is_digital', false);
      const weight = c.decimal('weight', 6, false);
      const dimensions = c.jsonObject('dimensions', null);
      const attributes = c.jsonObject('attributes', {});
      const createdAt = c.timestamp('created_at', true);
      const updatedAt = c.timestamp('updated_at', false) ?? createdAt;
      const categoryIds: string[] = [];
      const slugs = new Set(
        (fields.category_slugs ?? '')
          .split(CATEGORY_SLUG_SEPARATOR)
          .map((s) => s.trim())
          .filter(Boolean),
      );
      for (const categorySlug of slugs) {
        const category = state.categories.get(categorySlug);
        if (category) categoryIds.push(category.id);
        else c.problem('category_slugs', `unknown category "${categorySlug}"`);
      }
      duplicate(c, 'id', seenIds, id);
      duplicate(c, 'sku', seenSkus, sku);
      duplicate(c, 'slug', seenSlugs, slug);
      if (c.problems.length > 0) {
        if (id !== null && !seenIds.has(id)) state.rejectedProducts.set(id, line);
        return c.problems.join('; ');
      }
      seenIds.set(id!, line);
      seenSkus.set(sku!, line);
      seenSlugs.set(slug!, line);
      return {
        id: id!,
        name: name!,
        slug: slug!,
        sku: sku!,
        description,
        short_description: shortDescription,
        price: price!,
        compare_price: comparePrice,
        attributes,
        is_active: isActive,
        is_digital: isDigital,
        weight,
        dimensions,
        created_at: createdAt!,
        updated_at: updatedAt!,
        categoryIds,
      };
    },

    refused({ line, row }) {
      state.rejectedProducts.set(row.id, line);
    },

    async write(tx: Tx, rows: Array<Lined<ProductRow>>): Promise<BatchOutcome> {
      // An id or slug taken by another product makes the statement fail: the pipeline then splits
      // the batch until the offending row is alone and rejects it with the database's reason.
      const written = await queryRows<{ id: string; sku: string; inserted: boolean }>(
        tx,
        sql`INSERT INTO products AS t (id, sku, ${columns.list})
            SELECT id, sku, ${columns.of('x')}
            FROM ${recordset(
              rows.map(({ row }) => ({
                ...row,
                categoryIds: undefined,
                category_ids: [...row.categoryIds].sort(),
              })),
              UPSERT_COLUMNS,
            )}
            ON CONFLICT (sku) WHERE deleted_at IS NULL DO UPDATE SET ${columns.assignments}
            WHERE (${columns.of('t')}) IS DISTINCT FROM (${columns.of('EXCLUDED')})
            RETURNING t.id::text AS id, t.sku, (t.xmax = 0) AS inserted`,
      );

      // The stored id of every row: returned when written, looked up by SKU when unchanged.
      const storedIds = new Map(written.map((w) => [w.sku, w.id]));
      const unchanged = rows.filter(({ row }) => !storedIds.has(row.sku)).map(({ row }) => row.sku);
      if (unchanged.length > 0) {
        const found = await queryRows<{ id: string; sku: string }>(
          tx,
          sql`SELECT id::text AS id, sku FROM products
              WHERE deleted_at IS NULL
                AND sku IN (SELECT jsonb_array_elements_text(${JSON.stringify(unchanged)}::jsonb))`,
        );
        for (const { id, sku } of found) storedIds.set(sku, id);
      }
      const inserted = new Set(written.filter((w) => w.inserted).map((w) => w.sku));

      // Links: the file's set replaces the stored one; rows already right are left alone.
      const wanted = rows.flatMap(({ row }) =>
        row.categoryIds.map((categoryId) => ({
          product_id: storedIds.get(row.sku)!,
          category_id: categoryId,
        })),
      );
      const existing = rows
        .filter(({ row }) => !inserted.has(row.sku))
        .map(({ row }) => storedIds.get(row.sku)!);
      let linksDeleted = 0;
      let linksInserted = 0;
      if (existing.length > 0) {
        const deleted = await queryRows<{ n: number }>(
          tx,
          sql`WITH w AS (SELECT * FROM ${recordset(wanted, 'product_id uuid, category_id uuid')}),
              d AS (
                DELETE FROM product_categories pc
                WHERE pc.product_id IN (SELECT jsonb_array_elements_text(${JSON.stringify(existing)}::jsonb)::uuid)
                  AND NOT EXISTS (
                    SELECT 1 FROM w WHERE w.product_id = pc.product_id AND w.category_id = pc.category_id
                  )
                RETURNING 1
              )
              SELECT count(*)::int AS n FROM d`,
        );
        linksDeleted = deleted[0]?.n ?? 0;
      }
      if (wanted.length > 0) {
        const added = await queryRows<{ n: number }>(
          tx,
          sql`WITH i AS (
                INSERT INTO product_categories (product_id, category_id)
                SELECT product_id, category_id FROM ${recordset(wanted, 'product_id uuid, category_id uuid')}
                ON CONFLICT DO NOTHING
                RETURNING 1
              )
              SELECT count(*)::int AS n FROM i`,
        );
        linksInserted = added[0]?.n ?? 0;
      }

      return {
        inserted: inserted.size,
        updated: written.length - inserted.size,
        unchanged: rows.length - written.length,
        rejected: [],
        committed: () => {
          for (const { row } of rows) state.productIds.set(row.id, storedIds.get(row.sku)!);
          links.inserted += linksInserted;
          links.deleted += linksDeleted;
        },
      };
    },
  };
}
