import { sql } from 'drizzle-orm';
import { queryRows } from '../../../platform/db/client.js';
import type { Tx } from '../../../platform/db/transaction.js';
import { PRODUCTS_FILE, VARIANT_COLUMNS, VARIANTS_FILE } from './format.js';
import { recordset, type ImportState } from './import-state.js';
import type { BatchOutcome, Lined, TableLoader } from './pipeline.js';
import { RowChecker } from './row-checks.js';
import { upsertColumns } from './upsert-columns.js';

type Column = (typeof VARIANT_COLUMNS)[number];

interface VariantRow {
  id: string;
  /** The file's product id. */
  fileProductId: string;
  /** The stored product's id, once known (null: look it up in the database). */
  product_id: string | null;
  name: string;
  sku: string;
  price: string;
  attributes: Record<string, unknown>;
  is_active: boolean;
  stock: number;
  created_at: string;
}

const UPSERT_COLUMNS =
  'id uuid, product_id uuid, name text, sku text, price numeric(10,2), attributes jsonb, ' +
  'is_active boolean, stock integer, created_at timestamptz';
const COMPARED = 'product_id, name, price, attributes, is_active, stock, created_at';
const columns = upsertColumns(COMPARED);

/**
 * variants.csv, upserted by SKU among live variants. `product_id` names a row of products.csv (or
 * a stored product). `updated_at` starts as `created_at` and moves to now only on a real change.
 */
export function variantLoader(state: ImportState, now: Date): TableLoader<Column, VariantRow> {
  const seenIds = new Map<string, number>();
  const seenSkus = new Map<string, number>();

  return {
    file: VARIANTS_FILE,
    columns: VARIANT_COLUMNS,

    check(fields, line) {
      const c = new RowChecker<Column>(fields);
      const id = c.uuid('id');
      const productId = c.uuid('product_id');
      const name = c.text('name', { max: 200, required: true });
      const sku = c.text('sku', { max: 100, required: true });
      const price = c.decimal('price', 10, true);
      const attributes = c.jsonObject('attributes', {});
      const isActive = c.bool('is_active', true);
      const stock = c.count('stock', 0);
      const createdAt = c.timestamp('created_at', true);
      if (productId !== null) {
        const rejectedAt = state.rejectedProducts.get(productId);
        if (rejectedAt !== undefined) {
          c.problem('product_id', `its product was rejected (${PRODUCTS_FILE} line ${rejectedAt})`);
        }
      }
      const firstId = id === null ? undefined : seenIds.get(id);
      if (firstId !== undefined) c.problem('id', `duplicate of line ${firstId}`);
      const firstSku = sku === null ? undefined : seenSkus.get(sku);
      if (firstSku !== undefined) c.problem('sku', `duplicate of line ${firstSku}`);
      if (c.problems.length > 0) return c.problems.join('; ');
      seenIds.set(id!, line);
      seenSkus.set(sku!, line);
      return {
        id: id!,
        fileProductId: productId!,
        product_id: state.productIds.get(productId!) ?? null,
        name: name!,
        sku: sku!,
        price: price!,
        attributes,
        is_active: isActive,
        stock,
        created_at: createdAt!,
      };
    },

    // An id taken by another variant makes the statement fail: the pipeline then splits the batch
    // until the offending row is alone and rejects it with the database's reason.
    async write(tx: Tx, rows: Array<Lined<VariantRow>>): Promise<BatchOutcome> {
      const rejected: BatchOutcome['rejected'] = [];

      // Products not in products.csv may exist in the database already.
      const unknown = [
        ...new Set(rows.filter((r) => r.row.product_id === null).map((r) => r.row.fileProductId)),
      ];
      const found = new Set<string>();
      if (unknown.length > 0) {
        const live = await queryRows<{ id: string }>(
          tx,
          sql`SELECT id::text AS id FROM products
              WHERE deleted_at IS NULL
                AND id IN (SELECT jsonb_array_elements_text(${JSON.stringify(unknown)}::jsonb)::uuid)`,
        );
        for (const { id } of live) found.add(id);
      }

      const accepted: VariantRow[] = [];
      for (const { line, row } of rows) {
        const productId = row.product_id ?? (found.has(row.fileProductId) ? row.fileProductId : null);
        if (productId === null) {
          rejected.push({ line, reason: `product_id: no product with id ${row.fileProductId}` });
        } else {
          accepted.push({ ...row, product_id: productId });
        }
      }

      let written: Array<{ inserted: boolean }> = [];
      if (accepted.length > 0) {
        written = await queryRows<{ inserted: boolean }>(
          tx,
          sql`INSERT INTO product_variants AS t (id, sku, ${columns.list}, updated_at)
              SELECT id, sku, ${columns.of('x')}, created_at
              FROM ${recordset(
                accepted.map((row) => ({ ...row, fileProductId: undefined })),
                UPSERT_COLUMNS,
              )}
              ON CONFLICT (sku) WHERE deleted_at IS NULL DO UPDATE SET ${columns.assignments},
                updated_at = ${now.toISOString()}::timestamptz
              WHERE (${columns.of('t')}) IS DISTINCT FROM (${columns.of('EXCLUDED')})
              RETURNING (t.xmax = 0) AS inserted`,
        );
      }
      const inserted = written.filter((r) => r.inserted).length;
      return {
        inserted,
        updated: written.length - inserted,
        unchanged: accepted.length - written.length,
        rejected,
      };
    },
  };
}
