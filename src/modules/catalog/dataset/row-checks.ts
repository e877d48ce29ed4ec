import { parseDecimal } from '../../../platform/decimal.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;
const MAX_INT32 = 2_147_483_647;

/** Characters as PostgreSQL counts them (code points, not UTF-16 units). */
const charLength = (s: string) => (/[\uD800-\uDFFF]/.test(s) ? [...s].length : s.length);
const shown = (value: string) => JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);

/**
 * Reads the fields of one CSV row into typed values, collecting every problem instead of stopping
 * at the first. An empty field is NULL: `optional` readers return null for it, the others report it.
 */
export class RowChecker<C extends string> {
  readonly problems: string[] = [];

  constructor(private readonly fields: Record<C, string | null>) {}

  private fail(column: C, message: string): null {
    this.problems.push(`${column}: ${message}`);
    return null;
  }

  private raw(column: C, required: boolean): string | null {
    const value = this.fields[column];
    if (value === null && required) return this.fail(column, 'required');
    return value;
  }

  text(column: C, { max, required = false }: { max?: number; required?: boolean } = {}): string | null {
    const value = this.raw(column, required);
    if (value === null) return null;
    if (required && value.trim() === '') return this.fail(column, 'required');
    if (value.includes('\0')) return this.fail(column, 'contains a NUL character');
    if (max !== undefined && charLength(value) > max) {
      return this.fail(column, `longer than ${max} characters`);
    }
    return value;
  }

  slug(column: C, required = true): string | null {
    const value = this.text(column, { max: 50, required });
    if (value === null) return null;
    if (!SLUG.test(value)) {
      return this.fail(column, `${shown(value)} is not a slug (lowercase letters, digits, single hyphens)`);
    }
    return value;
  }

  uuid(column: C): string | null {
    const value = this.raw(column, true);
    if (value === null) return null;
    if (!UUID.test(value)) return this.fail(column, `${shown(value)} is not a UUID`);
    return value.toLowerCase();
  }

  /** A decimal with at most 2 places that fits numeric(precision, 2) and is not negative. */
  decimal(column: C, precision: number, required: boolean): string | null {
    const value = this.raw(column, required);
    if (value === null) return null;
    const parsed = parseDecimal(value, { maxDigits: precision, places: 2, min: 0 });
    if ('error' in parsed) {
      const message = /^-\d/.test(value.trim())
        ? 'must not be negative'
        : /decimal places/.test(parsed.error)
          ? 'has more than 2 decimal places'
          : /digits before/.test(parsed.error)
            ? `is too large (at most ${precision - 2} digits before the point)`
            : 'is not a decimal number';
      return this.fail(column, `${shown(value)} ${message}`);
    }
    return parsed.value;
  }

  /** `true` or `false` (any case); empty gives `fallback`. */
  bool(column: C, fallback: boolean): boolean {
    const value = this.fields[column];
    if (value === null) return fallback;
    const lower = value.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    this.fail(column, `${shown(value)} is not true or false`);
    return fallback;
  }

  /** A whole number from 0 to 2147483647; empty gives `fallback`. */
  count(column: C, fallback: number): number {
    const value = this.fields[column];
    if (value === null) return fallback;
    if (/^-\d+$/.test(value.trim())) {
      this.fail(column, `${shown(value)} must not be negative`);
      return fallback;
    }
    if (!/^\d+$/.test(value.trim()) || Number(value) > MAX_INT32) {
      this.fail(column, `${shown(value)} is not a whole number up to ${MAX_INT32}`);
      return fallback;
    }
    return Number(value);
  }

  /** ISO 8601 with a time zone (`2025-03-03T21:06:40.075995Z`), kept as text for PostgreSQL. */
  timestamp(column: C, required: boolean): string | null {
    const value = this.raw(column, required);
    if (value === null) return null;
    const m = TIMESTAMP.exec(value);
    const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = m
      ? m.slice(1, 7).map(Number)
      : [];
    const date = new Date(Date.UTC(year, month - 1, day));
    if (
      !m ||
      date.getUTCFullYear() !== year ||
      date.getUTCMonth() !== month - 1 ||
      date.getUTCDate() !== day ||
      hour > 23 ||
      minute > 59 ||
      second > 59
    ) {
      return this.fail(column, `${shown(value)} is not an ISO 8601 timestamp with a time zone`);
    }
    return value;
  }

  /** A JSON object; empty gives `fallback`. */
  jsonObject<F extends Record<string, unknown> | null>(column: C, fallback: F): Record<string, unknown> | F {
    const value = this.fields[column];
    if (value === null) return fallback;
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      this.fail(column, `not valid JSON: ${shown(value)}`);
      return fallback;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      this.fail(column, 'must be a JSON object');
      return fallback;
    }
    if (value.includes('\\u0000')) {
      this.fail(column, 'contains a NUL character');
      return fallback;
    }
    return parsed as Record<string, unknown>;
  }

  /** Reports a problem found by the caller. */
  problem(column: C, message: string): void {
    this.fail(column, message);
  }
}
