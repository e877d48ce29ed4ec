import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { fieldError } from '../errors/http-errors.js';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const MAX_KEY_LENGTH = 255;

/** 1 to 255 printable ASCII characters (space to tilde). */
const PRINTABLE_ASCII = /^[\x20-\x7E]*$/;

const keyError = (message: string) => fieldError(IDEMPOTENCY_KEY_HEADER, message);

/** The request's `Idempotency-Key`, null without one; 400 `{"Idempotency-Key": ["…"]}` for a bad one. */
export function idempotencyKeyOf(request: FastifyRequest): string | null {
  const raw = request.headers['idempotency-key'];
  if (raw === undefined) return null;
  // Node joins repeated headers with ", " (one value here); an array would be several values anyway.
  if (Array.isArray(raw)) throw keyError('Send one Idempotency-Key.');
  if (raw.length === 0) throw keyError('This field may not be blank.');
  if (raw.length > MAX_KEY_LENGTH)
    throw keyError(`Ensure this field has no more than ${MAX_KEY_LENGTH} characters.`);
  if (!PRINTABLE_ASCII.test(raw)) throw keyError('Only printable ASCII characters are allowed.');
  return raw;
}

/**
 * The route as one string, whatever way the client spelled it: the route's pattern with the
 * decoded parameters put back (so `%61` and `a`, a trailing slash or doubled slashes name the same
 * route), without the query string.
 */
export function canonicalPath(request: FastifyRequest): string {
  const pattern = request.routeOptions.url;
  // Fastify's path parameters are strings.
  const params = (request.params ?? {}) as Record<string, string | undefined>;
  const path =
    pattern === undefined
      ? request.url.split('?')[0]!
      : pattern.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?|\*/g, (_whole, name: string | undefined) =>
          encodeURIComponent(params[name ?? '*'] ?? ''),
        );
  const collapsed = path.replace(/\/{2,}/g, '/');
  return collapsed.length > 1 && collapsed.endsWith('/') ? collapsed.slice(0, -1) : collapsed;
}

/** JSON with every object's keys sorted, so that two bodies differing only in key order are one. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    const fields = Object.keys(object)
      .filter((name) => object[name] !== undefined)
      .sort()
      .map((name) => `${JSON.stringify(name)}:${canonicalJson(object[name])}`);
    return `{${fields.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** SHA-256 (hex) of the method, the canonical path and the canonical JSON of the body. */
export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method.toUpperCase()}\n${path}\n${canonicalJson(body)}`)
    .digest('hex');
}
