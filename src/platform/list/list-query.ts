import { and, asc, desc, ilike, or, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { Type, type TSchema } from 'typebox';
import { badRequest, type FieldErrors } from '../errors/http-errors.js';
import { parseFilter, type Filter } from './filters.js';
import { assertPageExists, pageOf, parsePage, type Page, type PageRequest } from './pagination.js';

export interface ListSpec {
  filters?: Record<string, Filter>;
  /** Filters named by a prefix, e.g. `attr.` for `attr.color=red`: called with the rest of the name. */
  prefixFilters?: Record<
    string,
    { description: string; apply: (key: string, value: string) => SQL | undefined }
  >;
  /** Every search term must occur (case-insensitively) in at least one of these. */
  searchFields?: SearchField[];
  ordering?: Record<string, AnyColumn | SQL>;
  /** e.g. `-created_at`. */
  defaultOrdering?: string;
  /** The unique column that breaks ties, so pages never overlap or skip. */
  tieBreaker: AnyColumn;
}

/**
 * A searched column or expression, matched with ILIKE; or `{ lowercased }`, one that already holds
 * lower-cased text, matched with LIKE against the lower-cased term: the same answer (it is how
 * PostgreSQL runs ILIKE) without lower-casing every candidate row.
 */
export type SearchField = AnyColumn | SQL | { lowercased: AnyColumn | SQL };

export interface ListQuery extends PageRequest {
  where: SQL | undefined;
  orderBy: SQL[];
  /**
   * What the request asked for, parsed: a list may answer some shapes from a structure of its own
   * (a count kept by triggers) instead of `where`.
   */
  asked: {
    /** The named filters given, by name, with their parsed values. */
    filters: Record<string, unknown>;
    /** The search terms, as given (not lower-cased). */
    searchTerms: string[];
    /** A prefix filter (`attr.color=red`) was given. */
    prefixed: boolean;
  };
}

const MAX_SEARCH_TERMS = 10;

/** Escapes LIKE's wildcards so a term matches literally. */
const likeLiteral = (term: string) => term.replace(/[\\%_]/g, (c) => `\\${c}`);

function contains(field: SearchField, term: string): SQL {
  const pattern = `%${likeLiteral(term)}%`;
  return 'lowercased' in field ? sql`${field.lowercased} LIKE lower(${pattern})` : ilike(field, pattern);
}

const searchTermsOf = (raw: string) =>
  raw
    .split(/[\s,]+/)
    .filter(Boolean)
    .slice(0, MAX_SEARCH_TERMS);

function searchCondition(fields: SearchField[], terms: string[]): SQL | undefined {
  const perTerm = terms.map((term) => or(...fields.map((field) => contains(field, term))));
  return perTerm.length > 0 ? and(...perTerm) : undefined;
}

function orderingClauses(spec: ListSpec, raw: string | undefined): SQL[] {
  const allowed = spec.ordering ?? {};
  const parse = (text: string) =>
    text
      .split(',')
      .map((f) => f.trim())
      .filter((f) => Object.hasOwn(allowed, f.replace(/^-/, '')));
  let fields = raw !== undefined ? parse(raw) : [];
  if (fields.length === 0 && spec.defaultOrdering) fields = parse(spec.defaultOrdering);
  const clauses = fields.map((f) => {
    const column = allowed[f.replace(/^-/, '')]!;
    return f.startsWith('-') ? desc(column) : asc(column);
  });
  clauses.push(asc(spec.tieBreaker));
  return clauses;
}

/** Reads pagination, filters, search and ordering from the query string; 400 naming each bad filter. */
export function parseListQuery(spec: ListSpec, query: Record<string, unknown>): ListQuery {
  const conditions: Array<SQL | undefined> = [];
  const errors: FieldErrors = {};
  const asked: ListQuery['asked'] = { filters: {}, searchTerms: [], prefixed: false };
  const stringParam = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') {
      errors[name] = ['Give this parameter once.'];
      return undefined;
    }
    return value;
  };

  for (const [name, filter] of Object.entries(spec.filters ?? {})) {
    const raw = stringParam(name);
    if (raw === undefined || raw === '') continue;
    const parsed = parseFilter(filter, raw);
    if (parsed.ok) {
      conditions.push(filter.apply(parsed.value));
      asked.filters[name] = parsed.value;
    } else errors[name] = [parsed.error];
  }
  for (const [prefix, filter] of Object.entries(spec.prefixFilters ?? {})) {
    for (const name of Object.keys(query)) {
      if (!name.startsWith(prefix) || name.length === prefix.length) continue;
      const raw = stringParam(name);
      if (raw === undefined) continue;
      conditions.push(filter.apply(name.slice(prefix.length), raw));
      asked.prefixed = true;
    }
  }
  const search = stringParam('search');
  if (search && spec.searchFields?.length) {
    if (search.length > 200) errors.search = ['Ensure this value has at most 200 characters.'];
    else {
      asked.searchTerms = searchTermsOf(search);
      conditions.push(searchCondition(spec.searchFields, asked.searchTerms));
    }
  }
  const ordering = stringParam('ordering');
  if (Object.keys(errors).length > 0) throw badRequest(errors);

  return {
    ...parsePage(query),
    where: and(...conditions.filter((c): c is SQL => c !== undefined)),
    orderBy: orderingClauses(spec, ordering),
    asked,
  };
}

/** A list's two queries; the caller owns the SQL, joins included. */
export interface ListFetch<T> {
  count(query: ListQuery): Promise<number>;
  rows(query: ListQuery): Promise<T[]>;
}

/**
 * Runs a list; the answer is DRF's paginated body. Page 1 always exists, so its two queries run at
 * once. Past it, the count comes first: a page beyond the end is a 404 without reading any row
 * (`?page=999999999` would otherwise make the database skip every matching row).
 */
export async function listPage<T>(
  request: FastifyRequest,
  spec: ListSpec,
  fetch: ListFetch<T>,
): Promise<Page<T>> {
  const query = parseListQuery(spec, request.query as Record<string, unknown>);
  if (query.page === 1) {
    const [count, rows] = await Promise.all([fetch.count(query), fetch.rows(query)]);
    return pageOf(request, query, count, rows);
  }
  const count = await fetch.count(query);
  assertPageExists(query, count);
  return pageOf(request, query, count, await fetch.rows(query));
}

/** The list's query parameters, for the route schema and so for the OpenAPI document. */
export function listQuerySchema(spec: ListSpec) {
  const props: Record<string, TSchema> = {
    page: Type.Optional(Type.String({ description: 'Page number, from 1.', examples: ['1'] })),
    page_size: Type.Optional(
      Type.String({ description: 'Results per page (default 20, at most 100).', examples: ['20'] }),
    ),
  };
  for (const [name, filter] of Object.entries(spec.filters ?? {})) {
    props[name] = Type.Optional(
      Type.String({ description: `${filter.description} (${filter.format ?? filter.type})` }),
    );
  }
  if (spec.searchFields?.length) {
    props.search = Type.Optional(
      Type.String({ description: 'Space-separated terms; each must occur in at least one searched field.' }),
    );
  }
  if (spec.ordering) {
    const names = Object.keys(spec.ordering);
    props.ordering = Type.Optional(
      Type.String({
        description: `Comma-separated fields, '-' for descending: ${names.join(', ')}. Default: ${spec.defaultOrdering ?? 'id'}.`,
      }),
    );
  }
  const prefixes = Object.entries(spec.prefixFilters ?? {})
    .map(([prefix, f]) => `\`${prefix}<key>\`: ${f.description}`)
    .join(' ');
  return Type.Object(props, {
    additionalProperties: true,
    ...(prefixes ? { description: prefixes } : {}),
  });
}

/** `count(*)` as a JS number. */
export const countAll = sql<number>`cast(count(*) as integer)`;
