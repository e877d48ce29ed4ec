import { sql } from 'drizzle-orm';
import { queryRows } from '../../../platform/db/client.js';
import type { Tx } from '../../../platform/db/transaction.js';
import { CATEGORIES_FILE, CATEGORY_COLUMNS } from './format.js';
import { recordset, type ImportState } from './import-state.js';
import type { BatchOutcome, Lined, TableLoader } from './pipeline.js';
import { RowChecker } from './row-checks.js';

type Column = (typeof CATEGORY_COLUMNS)[number];

interface CategoryRow {
  /** The stored row's id when the slug exists already, else the file's. */
  id: string;
  name: string;
  slug: string;
  description: string;
  parent_id: string | null;
  is_active: boolean;
  created_at: string;
}

/**
 * categories.csv, upserted by slug. A parent must come earlier in the file or exist already.
 * `updated_at` starts as `created_at` and moves to now only when something really changes.
 */
export function categoryLoader(state: ImportState, now: Date): TableLoader<Column, CategoryRow> {
  const seenSlugs = new Map<string, number>();
  const seenIds = new Map<string, number>();

  /** True when `slug` is an ancestor of (or is) `start`, following the known parents. */
  const isAncestor = (slug: string, start: string) => {
    for (let s: string | null = start, hops = 0; s !== null && hops < 1000; hops++) {
      if (s === slug) return true;
      s = state.categories.get(s)?.parentSlug ?? null;
    }
    return false;
  };

  return {
    file: CATEGORIES_FILE,
    columns: CATEGORY_COLUMNS,
    // A child may name a parent from the previous batch.
    ordered: true,

    check(fields, line) {
      const c = new RowChecker<Column>(fields);
      const fileId = c.uuid('id');
      const name = c.text('name', { max: 100, required: true });
      const slug = c.slug('slug');
      const description = c.text('description') ?? '';
      const parentSlug = c.slug('parent_slug', false);
      const isActive = c.bool('is_active', true);
      const createdAt = c.timestamp('created_at', true);
      if (slug !== null) {
        const first = seenSlugs.get(slug);
        if (first !== undefined) c.problem('slug', `duplicate of line ${first}`);
      }
      if (fileId !== null) {
        const first = seenIds.get(fileId);
        if (first !== undefined) c.problem('id', `duplicate of line ${first}`);
        const owner = state.categorySlugById.get(fileId);
        if (owner !== undefined && owner !== slug) c.problem('id', `already used by category "${owner}"`);
      }
      let parentId: string | null = null;
      if (parentSlug !== null && slug !== null) {
        const parent = state.categories.get(parentSlug);
        if (!parent) c.problem('parent_slug', `unknown category "${parentSlug}"`);
        else if (isAncestor(slug, parentSlug)) c.problem('parent_slug', `"${parentSlug}" would make a cycle`);
        else parentId = parent.id;
      }
      if (c.problems.length > 0) return c.problems.join('; ');

      seenSlugs.set(slug!, line);
      seenIds.set(fileId!, line);
      const id = state.categories.get(slug!)?.id ?? fileId!;
      // Later rows may name this one as their parent.
      state.categories.set(slug!, { id, parentSlug });
      state.categorySlugById.set(id, slug!);
      return {
        id,
        name: name!,
        slug: slug!,
        description,
        parent_id: parentId,
        is_active: isActive,
        created_at: createdAt!,
      };
    },

    async write(tx: Tx, rows: Array<Lined<CategoryRow>>): Promise<BatchOutcome> {
      const written = await queryRows<{ inserted: boolean }>(
        tx,
        sql`INSERT INTO categories AS t
              (id, name, slug, description, parent_id, is_active, created_at, updated_at)
            SELECT id, name, slug, description, parent_id, is_active, created_at, created_at
            FROM ${recordset(
              rows.map((r) => r.row),
              'id uuid, name text, slug text, description text, parent_id uuid, is_active boolean, created_at timestamptz',
            )}
            ON CONFLICT (slug) DO UPDATE SET
              name = EXCLUDED.name,
              description = EXCLUDED.description,
              parent_id = EXCLUDED.parent_id,
              is_active = EXCLUDED.is_active,
              created_at = EXCLUDED.created_at,
              updated_at = ${now.toISOString()}::timestamptz
            WHERE (t.name, t.description, t.parent_id, t.is_active, t.created_at)
              IS DISTINCT FROM
              (EXCLUDED.name, EXCLUDED.description, EXCLUDED.parent_id, EXCLUDED.is_active, EXCLUDED.created_at)
            RETURNING (t.xmax = 0) AS inserted`,
      );
      const inserted = written.filter((r) => r.inserted).length;
      return {
        inserted,
        updated: written.length - inserted,
        unchanged: rows.length - written.length,
        rejected: [],
      };
    },
  };
}
