import { and, gte, inArray, lte } from 'drizzle-orm';
import type { Deps } from '../../platform/deps.js';
import { countAll, type ListQuery } from '../../platform/list/list-query.js';
import { publicCategoryPrices as entries } from './tables.js';

/** The public list's filters that public_category_prices can answer for, together. */
const ANSWERED_HERE = new Set(['category', 'min_price', 'max_price']);

/**
 * True when the public list asks for a category and at most a price range, and nothing else: its
 * count is then read from public_category_prices, which holds exactly the live, active products
 * of each category with their prices.
 */
export function countedByCategoryPrice(q: ListQuery): boolean {
  const { filters, searchTerms, prefixed } = q.asked;
  return (
    'category' in filters &&
    Object.keys(filters).every((name) => ANSWERED_HERE.has(name)) &&
    searchTerms.length === 0 &&
    !prefixed
  );
}

/**
 * How many live, active products sit in one of these categories with a price in the range: an
 * index-only range scan of the primary key per category. A product in two categories of the
 * sub-tree has an entry in each, so several categories count distinct products.
 */
export async function countByCategoryPrice(deps: Deps, categoryIds: string[], q: ListQuery): Promise<number> {
  if (categoryIds.length === 0) return 0;
  const { min_price: min, max_price: max } = q.asked.filters as { min_price?: string; max_price?: string };
  const where = and(
    inArray(entries.categoryId, categoryIds),
    min === undefined ? undefined : gte(entries.price, min),
    max === undefined ? undefined : lte(entries.price, max),
  );
  if (categoryIds.length === 1) {
    const [row] = await deps.db.select({ count: countAll }).from(entries).where(where);
    return row!.count;
  }
  const products = deps.db
    .selectDistinct({ id: entries.productId })
    .from(entries)
    .where(where)
    .as('products');
  const [row] = await deps.db.select({ count: countAll }).from(products);
  return row!.count;
}
