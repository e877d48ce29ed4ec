import type { FastifyRequest } from 'fastify';
import { Type, type TSchema } from 'typebox';
import { notFound } from '../errors/http-errors.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface PageRequest {
  page: number;
  pageSize: number;
  limit: number;
  offset: number;
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

const invalidPage = () => notFound('Invalid page.');

/** `page` must be a whole number >= 1 (else 404, as DRF); a bad `page_size` falls back to the default. */
export function parsePage(query: Record<string, unknown>): PageRequest {
  const rawPage = query.page;
  let page = 1;
  if (rawPage !== undefined) {
    if (typeof rawPage !== 'string' || !/^\d{1,9}$/.test(rawPage.trim())) throw invalidPage();
    page = Number(rawPage.trim());
    if (page < 1) throw invalidPage();
  }
  let pageSize = DEFAULT_PAGE_SIZE;
  const rawSize = query.page_size;
  if (typeof rawSize === 'string' && /^\d{1,9}$/.test(rawSize.trim()) && Number(rawSize) > 0) {
    pageSize = Math.min(Number(rawSize), MAX_PAGE_SIZE);
  }
  return { page, pageSize, limit: pageSize, offset: (page - 1) * pageSize };
}

/**
 * The request's own URL on `SITE_URL` (never the request's `Host`, which a client writes), with `page`
 * set to `page` (dropped for page 1, as DRF does). Appended, not resolved: a path like `//evil/` stays a path.
 */
function pageUrl(request: FastifyRequest, page: number): string {
  const url = new URL(request.server.siteUrl + request.url);
  if (page === 1) url.searchParams.delete('page');
  else url.searchParams.set('page', String(page));
  return url.toString();
}

const lastPageOf = (pr: PageRequest, count: number) => Math.max(1, Math.ceil(count / pr.pageSize));

/** A page past the end is a 404 `Invalid page.` (page 1 of nothing is fine). */
export function assertPageExists(pr: PageRequest, count: number): void {
  if (pr.page > lastPageOf(pr, count)) throw invalidPage();
}

/** Wraps one page of rows. */
export function pageOf<T>(request: FastifyRequest, pr: PageRequest, count: number, results: T[]): Page<T> {
  assertPageExists(pr, count);
  const lastPage = lastPageOf(pr, count);
  return {
    count,
    next: pr.page < lastPage ? pageUrl(request, pr.page + 1) : null,
    previous: pr.page > 1 ? pageUrl(request, pr.page - 1) : null,
    results,
  };
}

/** The response schema of a paginated list of `item`. */
export function pageSchema<T extends TSchema>(item: T) {
  return Type.Object({
    count: Type.Integer(),
    next: Type.Union([Type.String({ format: 'uri' }), Type.Null()]),
    previous: Type.Union([Type.String({ format: 'uri' }), Type.Null()]),
    results: Type.Array(item),
  });
}
