import { and, eq, gte, lte, or, sql, type SQL } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { Deps } from '../../platform/deps.js';
import { badRequest } from '../../platform/errors/http-errors.js';
import {
  booleanFilter,
  dateTimeFilter,
  decimalFilter,
  parseFilter,
  textFilter,
} from '../../platform/list/filters.js';
import { countAll, listPage, type ListSpec } from '../../platform/list/list-query.js';
import { categorySubtree } from './categories.js';
import { countByCategoryPrice, countedByCategoryPrice } from './category-price-count.js';
import { productCounts, products, variants } from './tables.js';
import { UUID_PATTERN } from '../../platform/ids.js';
import { visibility } from './products.js';

/**
 * A product is in stock when one of its active variants has stock: the first such variant of the
 * page row `"products"` (see `pageItems`), if any. Written with explicit table names: inside this
 * subquery, an unqualified `id` would mean the variant's own.
 */
const stockOfPageRow = (deps: Deps) =>
  deps.db
    .select({ found: sql<number>`1`.as('found') })
    .from(variants)
    .where(
      sql`${variants.productId} = "products"."id" AND ${variants.isActive} AND ${variants.deletedAt} IS NULL AND ${variants.stock} > 0`,
    )
    .limit(1)
    .as('stock');

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

/** The list item's own columns, plus what any ordering may name (`updated_at`). */
const pageColumns = {
  id: products.id,
  name: products.name,
  slug: products.slug,
  short_description: products.shortDescription,
  sku: products.sku,
  price: products.price,
  compare_price: products.comparePrice,
  is_active: products.isActive,
  is_digital: products.isDigital,
  created_at: products.createdAt,
  updated_at: products.updatedAt,
};

interface PageQuery {
  where: SQL | undefined;
  orderBy: SQL[];
  limit: number;
  offset: number;
}

/**
 * One page of list items. `in_stock` is looked up for the page's rows, after the LIMIT, through a
 * LATERAL join: an EXISTS in the statement that filters is costed for every row before the LIMIT
 * (in a generic plan, for a tenth of the table whatever the page size) and, around 10,000
 * products, becomes a hashed sub-plan that reads every variant on each request. A LATERAL
 * sub-query with its own LIMIT cannot be flattened into a join, so it always runs as one probe of
 * the variants index per row shown.
 *
 * The page is aliased `products` so that the lateral sub-query and the list's ORDER BY, written
 * against the table's columns, name the page's: the outer ORDER BY keeps the order LIMIT chose
 * (a sub-query's order is not otherwise promised); PostgreSQL sees the page already sorted.
 */
function pageItems(deps: Deps, q: PageQuery) {
  const page = deps.db
    .select(pageColumns)
    .from(products)
    .where(q.where)
    .orderBy(...q.orderBy)
    .limit(q.limit)
    .offset(q.offset)
    .as('products');
  const stock = stockOfPageRow(deps);
  return deps.db
    .select({
      id: page.id,
      name: page.name,
      slug: page.slug,
      short_description: page.short_description,
      sku: page.sku,
      price: page.price,
      compare_price: page.compare_price,
      is_active: page.is_active,
      is_digital: page.is_digital,
      in_stock: sql<boolean>`${stock.found} IS NOT NULL`,
      created_at: page.created_at,
    })
    .from(page)
    .leftJoinLateral(stock, sql`true`)
    .orderBy(...q.orderBy);
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
  const visible = visibility(staff, includeDeleted);
  return listPage(request, productListSpec(staff, subtrees), {
    // Unfiltered, and for the public by category and price, the count is read from what triggers
    // keep; otherwise it is counted.
    count: async (q) => {
      if (!staff && countedByCategoryPrice(q)) {
        const slug = q.asked.filters.category as string;
        return countByCategoryPrice(deps, subtrees.get(slug) ?? [], q);
      }
      const [total] =
        q.where === undefined
          ? await deps.db
              .select({ count: productCounts.count })
              .from(productCounts)
              .where(eq(productCounts.audience, countedAudience(staff, includeDeleted)))
          : await deps.db.select({ count: countAll }).from(products).where(and(visible, q.where));
      return total!.count;
    },
    rows: async (q) => {
      const where = and(visible, q.where);
      const rows = await pageItems(deps, { where, orderBy: q.orderBy, limit: q.limit, offset: q.offset });
      return rows.map((r) => ({ ...r, created_at: r.created_at.toISOString() }));
    },
  });
}
