import { and, asc, eq, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import type { Deps } from '../../platform/deps.js';
import { queryRows, type Executor } from '../../platform/db/client.js';
import { foreignKeyViolation, uniqueViolationToFieldErrors } from '../../platform/db/errors.js';
import { transaction } from '../../platform/db/transaction.js';
import { badRequest, conflict, notFound } from '../../platform/errors/http-errors.js';
import { booleanFilter } from '../../platform/list/filters.js';
import { countAll, listPage, type ListQuery, type ListSpec } from '../../platform/list/list-query.js';
import { CATALOG_SCOPE } from './cache.js';
import type { CategoryPatch } from './schemas.js';
import { categories, productCategories, type Category } from './tables.js';
import { UUID_PATTERN } from '../../platform/ids.js';
import { slugify } from './slugs.js';

/** What a category's view shows. */
export type CategoryFields = Pick<
  Category,
  'id' | 'name' | 'slug' | 'description' | 'parentId' | 'isActive' | 'createdAt'
>;

export const categoryView = (c: CategoryFields) => ({
  id: c.id,
  name: c.name,
  slug: c.slug,
  description: c.description,
  parent: c.parentId,
  is_active: c.isActive,
  created_at: c.createdAt.toISOString(),
});

export const categoryListSpec = (staff: boolean): ListSpec => ({
  filters: staff
    ? {
        is_active: booleanFilter('Only active (true) or inactive (false) categories.', (v) =>
          eq(categories.isActive, v),
        ),
      }
    : {},
  searchFields: [categories.name, categories.slug],
  ordering: { name: categories.name, slug: categories.slug, created_at: categories.createdAt },
  defaultOrdering: 'name',
  tieBreaker: categories.id,
});

/** The flat, paginated list: the public sees active categories only. */
export function listCategories(deps: Deps, request: FastifyRequest, staff: boolean) {
  const where = (q: ListQuery) => and(staff ? undefined : eq(categories.isActive, true), q.where);
  return listPage(request, categoryListSpec(staff), {
    count: async (q) =>
      (await deps.db.select({ count: countAll }).from(categories).where(where(q)))[0]!.count,
    rows: async (q) =>
      (
        await deps.db
          .select()
          .from(categories)
          .where(where(q))
          .orderBy(...q.orderBy)
          .limit(q.limit)
          .offset(q.offset)
      ).map(categoryView),
  });
}

export interface CategoryNode extends ReturnType<typeof categoryView> {
  children: CategoryNode[];
}

/** Every category as a tree, one query; the public sees active ones under active parents only. */
export async function categoryTree(deps: Deps, staff: boolean): Promise<CategoryNode[]> {
  const rows = await deps.db
    .select()
    .from(categories)
    .where(staff ? undefined : eq(categories.isActive, true))
    .orderBy(asc(categories.name), asc(categories.id));
  const nodes = new Map(
    rows.map((row) => [row.id, { ...categoryView(row), children: [] as CategoryNode[] }]),
  );
  const roots: CategoryNode[] = [];
  for (const node of nodes.values()) {
    if (node.parent === null) roots.push(node);
    else nodes.get(node.parent)?.children.push(node);
  }
  return roots;
}

/** A category by id or slug; the public sees active ones only. */
export async function findCategory(deps: Deps, idOrSlug: string, staff: boolean): Promise<Category> {
  const key = UUID_PATTERN.test(idOrSlug)
    ? eq(categories.id, idOrSlug.toLowerCase())
    : eq(categories.slug, idOrSlug);
  const [row] = await deps.db
    .select()
    .from(categories)
    .where(and(key, staff ? undefined : eq(categories.isActive, true)));
  if (!row) throw notFound();
  return row;
}

/**
 * Ids of the category with this slug and of every category below it; `activeOnly` stops at
 * inactive ones. `UNION`, not `UNION ALL`: a row already reached is not followed again, so a cycle
 * that got into the table (plain SQL, a restore) ends the walk instead of running it for ever.
 */
export async function categorySubtree(
  executor: Executor,
  slug: string,
  activeOnly: boolean,
): Promise<string[]> {
  const active = activeOnly ? sql`AND c.is_active` : sql``;
  const rows = await queryRows<{ id: string }>(
    executor,
    sql`WITH RECURSIVE tree AS (
          SELECT c.id FROM categories c WHERE c.slug = ${slug} ${active}
          UNION
          SELECT c.id FROM categories c JOIN tree ON c.parent_id = tree.id ${active}
        ) SELECT tree.id::text AS id FROM tree ORDER BY tree.id`,
  );
  return rows.map((r) => r.id);
}

export type CategoryInput = Static<typeof CategoryPatch>;

/** Any constant: the one advisory lock every category move takes (migrations use 7_264_001). */
const CATEGORY_TREE_LOCK = 7_264_002;

/**
 * Serialises moves: without it two transactions (A under B, B under A) each check an ancestor
 * chain the other has not committed yet, and both commit a cycle. Held until this transaction
 * ends; under READ COMMITTED the check's next statement then sees the move committed before it.
 */
async function lockCategoryTree(executor: Executor): Promise<void> {
  await executor.execute(sql`SELECT pg_advisory_xact_lock(${CATEGORY_TREE_LOCK})`);
}

/** True when `category` is `start` or one of its ancestors; `UNION` ends the walk on a cycle. */
async function isAncestorOrSelf(executor: Executor, category: string, start: string): Promise<boolean> {
  const rows = await queryRows(
    executor,
    sql`WITH RECURSIVE up AS (
      SELECT c.id, c.parent_id FROM categories c WHERE c.id = ${start}
      UNION SELECT c.id, c.parent_id FROM categories c JOIN up ON c.id = up.parent_id
    ) SELECT 1 FROM up WHERE up.id = ${category} LIMIT 1`,
  );
  return rows.length > 0;
}

async function checkParent(
  executor: Executor,
  parent: string | null | undefined,
  self?: string,
): Promise<void> {
  if (parent === undefined || parent === null) return;
  if (!UUID_PATTERN.test(parent)) throw badRequest({ parent: ['Must be a valid UUID.'] });
  if (parent === self) throw badRequest({ parent: ['A category cannot be its own parent.'] });
  // A new category has nothing below it; only a move can close a cycle.
  if (self) await lockCategoryTree(executor);
  const [row] = await executor
    .select({ id: categories.id })
    .from(categories)
    .where(eq(categories.id, parent));
  if (!row) throw badRequest({ parent: [`Invalid pk "${parent}" - object does not exist.`] });
  if (self && (await isAncestorOrSelf(executor, self, parent))) {
    throw badRequest({ parent: ['A category cannot be placed below itself.'] });
  }
}

/** A taken slug as the 400 on `slug` it is; anything else as it was. */
function slugTakenToFieldError(err: unknown): never {
  return uniqueViolationToFieldErrors(err, {
    categories_slug_key: ['slug', 'category with this slug already exists.'],
  });
}

export async function createCategory(deps: Deps, input: CategoryInput & { name: string }): Promise<Category> {
  const slug = input.slug ?? slugify(input.name);
  if (!slug) throw badRequest({ slug: ['Could not make a slug from the name; give one.'] });
  try {
    return await transaction(deps.db, async (tx) => {
      await checkParent(tx, input.parent);
      const [row] = await tx
        .insert(categories)
        .values({
          name: input.name,
          slug,
          description: input.description ?? '',
          parentId: input.parent ?? null,
          isActive: input.is_active ?? true,
        })
        .returning();
      tx.afterCommit(() => deps.responseCache.invalidate(CATALOG_SCOPE));
      return row!;
    });
  } catch (err) {
    return slugTakenToFieldError(err);
  }
}

export async function updateCategory(
  deps: Deps,
  category: Category,
  input: CategoryInput,
): Promise<Category> {
  try {
    return await transaction(deps.db, async (tx) => {
      await checkParent(tx, input.parent, category.id);
      const [row] = await tx
        .update(categories)
        .set({
          name: input.name,
          slug: input.slug,
          description: input.description,
          parentId: input.parent,
          isActive: input.is_active,
          updatedAt: deps.clock(),
        })
        .where(eq(categories.id, category.id))
        .returning();
      tx.afterCommit(() => deps.responseCache.invalidate(CATALOG_SCOPE));
      return row!;
    });
  } catch (err) {
    return slugTakenToFieldError(err);
  }
}

/** A category still holding sub-categories or products is a 409: nothing is deleted behind the user's back. */
export async function deleteCategory(deps: Deps, category: Category): Promise<void> {
  try {
    await deleteUnused(deps, category);
  } catch (err) {
    // A product linked (or a child added) between the check and the delete: the foreign key says no.
    if (foreignKeyViolation(err) !== null) throw inUse(category);
    throw err;
  }
}

const inUse = (category: Category, children = 0, products = 0) =>
  conflict(
    children + products > 0
      ? `This category still has ${children} sub-categories and ${products} products; move or delete them first.`
      : `The category ${category.slug} is in use; move or delete what it holds first.`,
  );

async function deleteUnused(deps: Deps, category: Category): Promise<void> {
  await transaction(deps.db, async (tx) => {
    const [children] = await tx
      .select({ count: countAll })
      .from(categories)
      .where(eq(categories.parentId, category.id));
    const [links] = await tx
      .select({ count: countAll })
      .from(productCategories)
      .where(eq(productCategories.categoryId, category.id));
    if (children!.count > 0 || links!.count > 0) throw inUse(category, children!.count, links!.count);
    await tx.delete(categories).where(eq(categories.id, category.id));
    tx.afterCommit(() => deps.responseCache.invalidate(CATALOG_SCOPE));
  });
}
