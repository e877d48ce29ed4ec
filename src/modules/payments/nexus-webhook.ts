/**
 * The Nexus webhook format (SPEC §6), which the sandbox speaks: a JSON event signed in the
 * `Nexus-Signature` header, Stripe's scheme. A gateway with a format of its own verifies its own.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { parseDecimal } from '../../platform/decimal.js';
import { problemIn } from '../../platform/http/bounded-input.js';
import { EVENT_TYPES, type EventType, type VerifiedWebhook } from './gateway.js';

export const SIGNATURE_HEADER = 'nexus-signature';
/** How old a signature's timestamp may be, and how far ahead of our clock (SPEC §6). */
export const SIGNATURE_TOLERANCE = { pastSeconds: 300, futureSeconds: 60 };

const hmac = (secret: string, timestamp: number, rawBody: Buffer) =>
  createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest();

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, one `v1` per secret given. */
export function signatureHeader(secrets: readonly string[], rawBody: Buffer, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  return [`t=${t}`, ...secrets.map((secret) => `v1=${hmac(secret, t, rawBody).toString('hex')}`)].join(',');
}

/**
 * True when the header is well formed, its `t` is inside the tolerance at `now`, and one of its `v1`
 * values is the HMAC of `"<t>.<raw body>"` under one of `secrets` (several on either side while a
 * secret is rotated). Each comparison takes the same time whatever the bytes (`timingSafeEqual`);
 * values of the wrong length are not compared at all, which leaks only the length of a hex SHA-256.
 */
export function signatureValid(
  header: string | undefined,
  secrets: readonly string[],
  rawBody: Buffer,
  now: Date,
): boolean {
  if (!header || header.length > 2000) return false;
  let t: number | null = null;
  const given: Buffer[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2) as [string, string | undefined];
    if (value === undefined) continue;
    if (key === 't' && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (key === 'v1' && /^[0-9a-fA-F]{64}$/.test(value)) given.push(Buffer.from(value, 'hex'));
  }
  if (t === null || given.length === 0) return false;
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (
    nowSeconds - t > SIGNATURE_TOLERANCE.pastSeconds ||
    t - nowSeconds > SIGNATURE_TOLERANCE.futureSeconds
  ) {
    return false;
  }
  let valid = false;
  for (const secret of secrets) {
    const expected = hmac(secret, t, rawBody);
    // Every pair is compared, a match or not, so the time says nothing about which one matched.
    for (const candidate of given) valid = timingSafeEqual(expected, candidate) || valid;
  }
  return valid;
}

const text = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= max;

/** The event in a verified body, or why it is not one. */
export function parseEvent(rawBody: Buffer): VerifiedWebhook {
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed', detail: 'The body is not JSON.' };
  }
  // Kept as it came (jsonb): text PostgreSQL cannot store would fail every delivery.
  const unstorable = problemIn(body);
  if (unstorable) return { ok: false, reason: 'malformed', detail: unstorable };
  const event = body as { id?: unknown; type?: unknown; data?: Record<string, unknown> | null };
  const data = typeof event.data === 'object' && event.data !== null ? event.data : {};
  const amount =
    typeof data.amount === 'string' || typeof data.amount === 'number'
      ? parseDecimal(data.amount, { maxDigits: 12, places: 2, min: 0 })
      : null;
  if (
    !text(event.id, 255) ||
    !(EVENT_TYPES as readonly unknown[]).includes(event.type) ||
    !text(data.reference, 255) ||
    !text(data.currency, 10) ||
    amount === null ||
    'error' in amount
  ) {
    return {
      ok: false,
      reason: 'malformed',
      detail: 'Expected {"id", "type", "data": {"reference", "amount", "currency"}}.',
    };
  }
  return {
    ok: true,
    payload: body,
    event: {
      id: event.id,
      type: event.type as EventType,
      reference: data.reference,
      amount: amount.value,
      currency: data.currency.toUpperCase(),
    },
  };
}

/** Signature first, on the raw bytes; the body is parsed only once the signature holds. */
export function verifyNexusWebhook(
  secrets: readonly string[],
  rawBody: Buffer,
  headers: IncomingHttpHeaders,
  now: Date,
): VerifiedWebhook {
  const header = headers[SIGNATURE_HEADER];
  if (!signatureValid(typeof header === 'string' ? header : undefined, secrets, rawBody, now)) {
    return { ok: false, reason: 'signature' };
  }
  return parseEvent(rawBody);
}
