import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { badRequest, type FieldErrors } from '../errors/http-errors.js';

/** JSON bodies and JSON fields nest at most this deep (SPEC §2); `{"a": {"b": 1}}` as a field is 2. */
export const MAX_JSON_DEPTH = 32;

const NUL = '\u0000';
/** A UTF-16 surrogate without its partner: no UTF-8 text can hold it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** What is wrong with one string, in DRF's words (its `ProhibitNull…` and `…Surrogate…` validators). */
export function unstorableText(text: string): string | undefined {
  if (text.includes(NUL)) return 'Null characters are not allowed.';
  const surrogate = LONE_SURROGATE.exec(text);
  if (surrogate) {
    const code = surrogate[0].charCodeAt(0).toString(16).toUpperCase();
    return `Surrogate characters are not allowed: U+${code}.`;
  }
  return undefined;
}

/**
 * The first problem in a JSON value: text PostgreSQL cannot store (in values and in keys), a number
 * that is not finite (`1e999` parses as Infinity), or nesting past `MAX_JSON_DEPTH`. The walk stops at
 * that depth, so a hostile body cannot exhaust the stack here or later in `JSON.stringify`.
 */
export function problemIn(value: unknown, depth = 1): string | undefined {
  if (typeof value === 'string') return unstorableText(value);
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : 'A valid number is required.';
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth > MAX_JSON_DEPTH) return `Ensure this value is nested at most ${MAX_JSON_DEPTH} levels deep.`;
  const entries = Array.isArray(value) ? value.map((v) => ['', v] as const) : Object.entries(value);
  for (const [key, child] of entries) {
    const problem = unstorableText(key) ?? problemIn(child, depth + 1);
    if (problem) return problem;
  }
  return undefined;
}

/** Problems per top-level name of a record (path params, query, body): the field each error is on. */
function problemsOf(record: unknown, errors: FieldErrors): void {
  // A raw body (a webhook's, kept as bytes for its signature) is read by its route, not here.
  if (typeof record !== 'object' || record === null || Buffer.isBuffer(record)) return;
  if (Array.isArray(record)) {
    const problem = problemIn(record, 1);
    if (problem) (errors.non_field_errors ??= []).push(problem);
    return;
  }
  for (const [name, value] of Object.entries(record)) {
    const badName = unstorableText(name);
    if (badName) (errors.non_field_errors ??= []).push(badName);
    const problem = badName ? undefined : problemIn(value, 1);
    if (problem) errors[name] ??= [problem];
  }
}

/** The bounds every value a client sends must keep, checked once for every route before its schema. */
export function checkBoundedInput(request: FastifyRequest): void {
  const errors: FieldErrors = {};
  problemsOf(request.params, errors);
  problemsOf(request.query, errors);
  problemsOf(request.body, errors);
  if (Object.keys(errors).length > 0) throw badRequest(errors);
}

export const boundedInputPlugin = fp(
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app: FastifyInstance) => {
    app.addHook('preValidation', (request, _reply, done) => {
      try {
        checkBoundedInput(request);
        done();
      } catch (err) {
        done(err as Error);
      }
    });
  },
  { name: 'bounded-input' },
);
