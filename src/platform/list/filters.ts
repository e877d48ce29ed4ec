import type { SQL } from 'drizzle-orm';
import { storableDate } from '../dates.js';

/**
 * A typed query-string filter. `parse` turns the raw value into a typed one or returns an
 * error message (django-filter's wording); `apply` turns it into a SQL condition.
 */
export interface Filter<T = unknown> {
  type: 'string' | 'number' | 'integer' | 'boolean';
  format?: string;
  description: string;
  parse(raw: string): T | { error: string };
  apply(value: T): SQL | undefined;
}

const isError = (v: unknown): v is { error: string } =>
  typeof v === 'object' && v !== null && 'error' in v && Object.keys(v).length === 1;

export function parseFilter<T>(
  filter: Filter<T>,
  raw: string,
): { ok: true; value: T } | { ok: false; error: string } {
  const parsed = filter.parse(raw);
  return isError(parsed) ? { ok: false, error: parsed.error } : { ok: true, value: parsed };
}

const DECIMAL = /^-?\d{1,12}(\.\d{1,6})?$/;
const INTEGER = /^-?\d{1,9}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** A decimal kept as a string, so money never goes through floating point. */
export const decimalFilter = (
  description: string,
  apply: (value: string) => SQL | undefined,
): Filter<string> => ({
  type: 'number',
  description,
  parse: (raw) => (DECIMAL.test(raw.trim()) ? raw.trim() : { error: 'Enter a number.' }),
  apply,
});

/** `Date` rolls 2025-02-30 over to March 2; a filter must refuse it instead. */
function realCalendarDate(text: string): boolean {
  const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const hour = Number(text.slice(11, 13) || '0');
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= new Date(Date.UTC(year, month, 0)).getUTCDate() &&
    hour < 24
  );
}

/** ISO 8601 date-time (or a bare date, taken as midnight UTC). */
export const dateTimeFilter = (
  description: string,
  apply: (value: Date) => SQL | undefined,
): Filter<Date> => ({
  type: 'string',
  format: 'date-time',
  description,
  parse: (raw) => {
    const text = raw.trim();
    if (!ISO_DATE_TIME.test(text) || !realCalendarDate(text)) return { error: 'Enter a valid date/time.' };
    const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(text) || text.length === 10;
    const date = new Date(hasZone || text.length === 10 ? text : `${text}Z`);
    return storableDate(date) ? date : { error: 'Enter a valid date/time.' };
  },
  apply,
});

export const booleanFilter = (
  description: string,
  apply: (value: boolean) => SQL | undefined,
): Filter<boolean> => ({
  type: 'boolean',
  description,
  parse: (raw) => {
    const text = raw.trim().toLowerCase();
    if (text === 'true' || text === '1') return true;
    if (text === 'false' || text === '0') return false;
    return { error: 'Enter a valid boolean: true, false, 1 or 0.' };
  },
  apply,
});

export const textFilter = (
  description: string,
  apply: (value: string) => SQL | undefined,
): Filter<string> => ({
  type: 'string',
  description,
  parse: (raw) => (raw.length <= 200 ? raw : { error: 'Ensure this value has at most 200 characters.' }),
  apply,
});

/** A whole number that fits an `integer` column (nine digits at most). */
export const integerFilter = (
  description: string,
  apply: (value: number) => SQL | undefined,
): Filter<number> => ({
  type: 'integer',
  description,
  parse: (raw) => (INTEGER.test(raw.trim()) ? Number(raw.trim()) : { error: 'Enter a whole number.' }),
  apply,
});

export const choiceFilter = <C extends string>(
  description: string,
  choices: readonly C[],
  apply: (value: C) => SQL | undefined,
): Filter<C> => ({
  type: 'string',
  description: `${description} One of: ${choices.join(', ')}.`,
  parse: (raw) =>
    (choices as readonly string[]).includes(raw)
      ? (raw as C)
      : { error: `Select a valid choice. ${raw} is not one of the available choices.` },
  apply,
});
