import { storableDate } from '../dates.js';

/** The part of ajv this needs (ajv is Fastify's, not a dependency of ours). */
interface FormatRegistry {
  formats: Record<string, unknown>;
  addFormat(name: string, format: { type: 'string'; validate: (text: string) => boolean }): unknown;
}

/** A format as ajv keeps it (a function, a RegExp, or `{validate}` holding either) as one check. */
function checkOf(format: unknown): (text: string) => boolean {
  if (typeof format === 'function') return (text) => (format as (t: string) => unknown)(text) === true;
  if (format instanceof RegExp) return (text) => format.test(text);
  if (typeof format === 'object' && format !== null && 'validate' in format) return checkOf(format.validate);
  throw new Error('ajv-formats did not register the date formats');
}

/**
 * ajv-formats' `date-time` and `date` take any four-digit year, 0000 included, which PostgreSQL
 * refuses (a 500 at the insert). These wrap them: the text is well-formed and its instant storable.
 * For Fastify's `ajv.onCreate`, which runs after ajv-formats is added.
 */
export function storableDateFormats(ajv: FormatRegistry): void {
  for (const name of ['date-time', 'date']) {
    const wellFormed = checkOf(ajv.formats[name]);
    ajv.addFormat(name, {
      type: 'string',
      validate: (text) => wellFormed(text) && storableDate(new Date(text)),
    });
  }
}
