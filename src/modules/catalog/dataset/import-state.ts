import { sql } from 'drizzle-orm';
import { queryRows, type Executor } from '../../../platform/db/client.js';

export interface KnownCategory {
  id: string;
  parentSlug: string | null;
}

/** What one import run knows beyond the current file: categories by slug, products by file id. */
export class ImportState {
  /** Every category (database and file) by slug. */
  categories = new Map<string, KnownCategory>();
  /** Slug of every category by id. */
  categorySlugById = new Map<string, string>();
  /** products.csv id → id of the stored product (the same unless the SKU matched another row). */
  readonly productIds = new Map<string, string>();
  /** products.csv id → line of the rejected row, to explain its variants' rejection. */
  readonly rejectedProducts = new Map<string, number>();

  /** Reads all categories from the database (a small table). */
  async loadCategories(db: Executor): Promise<void> {
    const rows = await queryRows<{ id: string; slug: string; parent_slug: string | null }>(
      db,
      sql`SELECT c.id::text AS id, c.slug, p.slug AS parent_slug
          FROM categories c LEFT JOIN categories p ON p.id = c.parent_id`,
    );
    this.categories = new Map(rows.map((r) => [r.slug, { id: r.id, parentSlug: r.parent_slug }]));
    this.categorySlugById = new Map(rows.map((r) => [r.id, r.slug]));
  }
}

/** `jsonb_to_recordset(<rows as one JSON parameter>) AS x(<columns>)`: a whole batch in one parameter. */
export function recordset(rows: readonly object[], columns: string) {
  return sql`jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(${sql.raw(columns)})`;
}
