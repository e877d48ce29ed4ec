import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import { buildDeps, type Deps } from '../../src/deps.js';
import { testConfig } from './app.js';
import { createTestDatabase } from './database.js';
import { deleteKeys } from './redis.js';

/*
 * The pieces of the property-based fuzz test (test/platform/fuzz.test.ts): an application whose
 * error logs are captured, the operations of its OpenAPI document, hostile arbitraries, a JSON
 * writer that can say what JSON.stringify cannot (1e309, "\ud800", invalid UTF-8), and the check
 * that an error body has one of Django REST framework's shapes.
 */

// ---------------------------------------------------------------------------------------------
// The application, with its warn and error log lines kept in memory.

export interface LogRecord {
  level: number;
  msg?: string;
  err?: { type?: string; message?: string; stack?: string; code?: string };
  [key: string]: unknown;
}

export interface FuzzApp {
  app: FastifyInstance;
  deps: Deps;
  config: Config;
  /** Warn and error lines since the last `takeLogs()`. */
  takeLogs(): LogRecord[];
  close(): Promise<void>;
}

/** As `createTestApp`, with a logger at `warn` writing into memory: a 500's cause is its `unhandled error` line. */
export async function createFuzzApp(env: Record<string, string> = {}): Promise<FuzzApp> {
  const database = await createTestDatabase();
  const config = testConfig({ ...env, DATABASE_URL: database.url });
  const redisPrefix = `test:${randomBytes(6).toString('hex')}:`;
  let lines: LogRecord[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        try {
          lines.push(JSON.parse(line) as LogRecord);
        } catch {
          lines.push({ level: 50, msg: line });
        }
      }
      callback();
    },
  });
  const log = pino({ level: 'warn' }, sink);
  const deps = await buildDeps(config, { migrate: true, pgliteDir: null, redisPrefix, log });
  const app = await buildApp(deps);
  deps.jobs.start({ periodic: false });
  return {
    app,
    deps,
    config,
    takeLogs() {
      const taken = lines;
      lines = [];
      return taken;
    },
    async close() {
      await app.close();
      await deps.close();
      if (config.redisUrl) await deleteKeys(config.redisUrl, redisPrefix);
      await database.drop();
      rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The OpenAPI document's operations.

export interface JsonSchema {
  type?: string;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
}

export interface Operation {
  method: string;
  /** The OpenAPI path, e.g. `/api/products/{id}/`. */
  path: string;
  pathParams: string[];
  query: Array<{ name: string; schema: JsonSchema }>;
  body?: { contentType: string; schema: JsonSchema };
}

interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: Array<{ in: string; name: string; schema?: JsonSchema }>;
        requestBody?: { content: Record<string, { schema: JsonSchema }> };
        responses?: Record<string, { content?: Record<string, unknown> }>;
      }
    >
  >;
}

export function operationsOf(document: unknown): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries((document as OpenApiDocument).paths)) {
    for (const [method, op] of Object.entries(methods)) {
      // A live stream of a valid request never ends, and `inject` waits for the end: its bad
      // inputs are tested with the stream itself (test/platform/events/order-events.test.ts).
      if (op.responses?.['200']?.content?.['text/event-stream']) continue;
      const parameters = op.parameters ?? [];
      const content = Object.entries(op.requestBody?.content ?? {})[0];
      operations.push({
        method: method.toUpperCase(),
        path,
        pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        query: parameters
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        body: content ? { contentType: content[0], schema: content[1].schema } : undefined,
      });
    }
  }
  return operations;
}

// ---------------------------------------------------------------------------------------------
// JSON text beyond JSON.stringify.

/** JSON text written as is: `1e309`, `"\ud800"`, or bytes that are not UTF-8. */
export class RawJson {
  constructor(readonly bytes: Buffer) {}
  static text(text: string): RawJson {
    return new RawJson(Buffer.from(text, 'utf8'));
  }
  toJSON(): string {
    return `<raw ${JSON.stringify(this.bytes.toString('latin1'))}>`;
  }
}

/** Serialises like JSON.stringify, keeping own `__proto__` keys, lone surrogates and `RawJson` as written. */
export function writeJson(value: unknown): Buffer {
  const parts: Buffer[] = [];
  let text = '';
  const flush = () => {
    if (text) parts.push(Buffer.from(text, 'utf8'));
    text = '';
  };
  const write = (v: unknown) => {
    if (v instanceof RawJson) {
      flush();
      parts.push(v.bytes);
    } else if (Array.isArray(v)) {
      text += '[';
      v.forEach((item, i) => {
        if (i > 0) text += ',';
        write(item);
      });
      text += ']';
    } else if (v !== null && typeof v === 'object') {
      text += '{';
      Object.keys(v).forEach((key, i) => {
        if (i > 0) text += ',';
        text += JSON.stringify(key) + ':';
        write((v as Record<string, unknown>)[key]);
      });
      text += '}';
    } else if (v === undefined) {
      text += 'null';
    } else {
      // JSON.stringify escapes lone surrogates as \udXXX (well-formed JSON.stringify).
      text += JSON.stringify(v);
    }
  };
  write(value);
  flush();
  return Buffer.concat(parts);
}

/** An object with the given own keys, `__proto__` included (an object literal would set the prototype). */
export function objectOf(entries: Array<[string, unknown]>): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return object;
}

// ---------------------------------------------------------------------------------------------
// Hostile values.

const MiB = 1024 * 1024;

export const nest = (depth: number, leaf: unknown = 1): unknown => {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
};

/** Nesting too deep for a recursive writer, as text (a JS value this deep would break our own writer). */
export const deepText = (depth: number) => RawJson.text('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));

export const EXTREME_DATES = [
  '0000-01-01',
  '10000-01-01',
  '-000001-01-01',
  '+010000-01-01',
  '+275760-09-13T00:00:00.000Z',
  '-271821-04-20T00:00:00.000Z',
  '0000-12-31T23:59:59Z',
  '0001-01-01T00:00:00+14:00',
  '9999-12-31T23:59:59-14:00',
  '9999-12-31T23:59:59.999999Z',
  '0001-01-01',
  '1970-01-01T00:00:00Z',
  '2024-02-30',
  '2024-13-01',
  '2024-01-01T25:61:00',
  '2024-01-01T00:00:00+99:99',
  '2024-01-01T00:00:00.1234567890123Z',
  '2024-01-01 10:00',
  '20240101',
  '2024-W01-1',
  'now',
  '1e309',
];

export const EXTREME_NUMBERS = [
  '1e309',
  '-1e309',
  '-0',
  '9223372036854775808',
  '-9223372036854775809',
  '99999999999.999',
  '99999999.995',
  '1e-400',
  '0.0000000000000000000001',
  '123456789012345678901234567890.123',
  '1E400',
  '9007199254740993',
  '2147483648',
  '-2147483649',
  '4294967296',
  '0.1e1',
  '-1',
  '0',
];

/** Strings a database or a URL parser may choke on. */
export const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uD800',
  '\uDFFF',
  'a\uDC00\uD800b',
  'x\uD83D',
  '%00',
  '%E0%A4%A',
  '%',
  '%zz',
  '%C0%AF',
  '%ED%A0%80',
  '%F4%90%80%80',
  '%FF',
  '\\',
  "'",
  '"',
  "x' OR 1=1 --",
  '%_',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '..',
  '.',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  'true',
  '[]',
  '{}',
  '\u202Eevil',
  '\uFEFF',
  '\uFFFF',
  '\u0085',
  '\r\n',
  'é',
  'e\u0301',
  'İ',
  'ß',
  '😀',
  '\u{10FFFF}',
  'x'.repeat(101),
  'x'.repeat(256),
  'x'.repeat(501),
  'x'.repeat(2001),
  'x'.repeat(10_000),
  ...EXTREME_DATES,
  ...EXTREME_NUMBERS,
];

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  // Any UTF-16 code units: lone surrogates anywhere.
  {
    weight: 1,
    arbitrary: fc
      .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 12 })
      .map((units) => String.fromCharCode(...units)),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.string({ maxLength: 8 }),
        fc.constantFrom('\u0000', '\uD800', '\uDC00'),
        fc.string({ maxLength: 8 }),
      )
      .map(([a, b, c]) => a + b + c),
  },
);

/** JSON leaves beyond the ordinary: extreme numbers and escapes written as raw text. */
const rawLeaf: fc.Arbitrary<RawJson> = fc.oneof(
  fc.constantFrom(...EXTREME_NUMBERS).map((text) => RawJson.text(text)),
  fc
    .constantFrom(
      '"\\u0000"',
      '"a\\u0000b"',
      '"\\ud800"',
      '"\\udc00\\ud800"',
      '"\\uDFFF"',
      '"\\u0000\\u0000"',
    )
    .map((text) => RawJson.text(text)),
  // Invalid UTF-8 inside a string: a stray continuation byte, a truncated sequence, an encoded
  // surrogate (CESU-8), an overlong slash, a code point past U+10FFFF.
  fc
    .constantFrom(
      [0xff],
      [0x80],
      [0xc3, 0x28],
      [0xe0, 0xa4],
      [0xed, 0xa0, 0x80],
      [0xc0, 0xaf],
      [0xf4, 0x90, 0x80, 0x80],
    )
    .map((bytes) => new RawJson(Buffer.concat([Buffer.from('"a'), Buffer.from(bytes), Buffer.from('b"')]))),
);

/** A value of any JSON type, mostly hostile. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 3, arbitrary: rawLeaf },
  {
    weight: 3,
    arbitrary: fc.constantFrom<unknown>(
      null,
      true,
      false,
      0,
      -1,
      1.5,
      2 ** 31,
      2 ** 53,
      2 ** 63,
      -(2 ** 63),
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      [],
      {},
      [null],
      ['a'],
      [[]],
      { a: 1 },
      { '': '' },
    ),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(32, 33, 40, 200).map((depth) => nest(depth)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(
      objectOf([['__proto__', { is_staff: true, isAdmin: true }]]),
      objectOf([['constructor', { prototype: { polluted: true } }]]),
      objectOf([['__proto__', null]]),
      objectOf([['prototype', 1]]),
      { toString: 'x', valueOf: 1, hasOwnProperty: null },
    ),
  },
  // Near and over 1 MiB, and past anything a stack can recurse: rare, they are slow.
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(
      'x'.repeat(MiB - 300),
      '\u0000'.repeat(1000),
      '\uD800'.repeat(1000),
      deepText(5_000),
      deepText(60_000),
    ),
  },
);

/** A segment for a path parameter: ids of real rows (as given and upper-cased), UUIDs, hostile text. */
export function pathSegment(existing: string[]): fc.Arbitrary<string> {
  const ids = existing.length > 0 ? existing : ['0'];
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...ids).map(encodeSafe) },
    { weight: 2, arbitrary: fc.constantFrom(...ids).map((id) => encodeSafe(id.toUpperCase())) },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: fc.uuid().map((id) => id.toUpperCase()) },
    { weight: 1, arbitrary: fc.uuid().map((id) => `{${id}}`) },
    { weight: 1, arbitrary: fc.uuid().map((id) => id.replaceAll('-', '')) },
    { weight: 1, arbitrary: fc.integer().map(String) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...ids), fc.constantFrom('%00', '\u0000', '%20', ' ', '%E0%A4%A', '\uD800'))
        .map(([id, tail]) => encodeSafe(id) + tail),
    },
    // Hostile text, sent raw (the escapes as written) or percent-encoded.
    { weight: 4, arbitrary: hostileString },
    { weight: 3, arbitrary: hostileString.map(encodeSafe) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('x'.repeat(100), 'x'.repeat(499), 'x'.repeat(500), 'x'.repeat(70_000)),
    },
  );
}

/** encodeURIComponent, leaving what it cannot encode (lone surrogates) as it is. */
export function encodeSafe(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return [...value]
      .map((char) => {
        try {
          return encodeURIComponent(char);
        } catch {
          return char;
        }
      })
      .join('');
  }
}

// ---------------------------------------------------------------------------------------------
// Arbitraries from a schema: mostly valid values, so that the request reaches the code behind
// validation.

export interface Pools {
  categories: string[];
  products: string[];
  refreshTokens: string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const decimalString = fc
  .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 99 }))
  .map(([units, cents]) => `${units}.${String(cents).padStart(2, '0')}`);

export function validFor(name: string, schema: JsonSchema, pools: Pools): fc.Arbitrary<unknown> {
  if (['price', 'compare_price', 'weight'].includes(name)) {
    return fc.oneof(
      { weight: 4, arbitrary: decimalString },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 10_000 }) },
      { weight: 1, arbitrary: fc.constantFrom('0', '0.00', '0.001', '1e3', '-1.00', '99999999.99') },
      { weight: name === 'price' ? 0 : 1, arbitrary: fc.constant(null) },
    );
  }
  if (name === 'categories' || name === 'parent') {
    const uuids = pools.categories.filter((ref) => UUID.test(ref));
    const reference = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.constantFrom(...(name === 'parent' && uuids.length > 0 ? uuids : pools.categories)),
      },
      { weight: 1, arbitrary: fc.uuid() },
    );
    return name === 'parent' ? fc.oneof(reference, fc.constant(null)) : fc.array(reference, { maxLength: 2 });
  }
  if (name === 'refresh' && pools.refreshTokens.length > 0) {
    return fc.oneof(fc.constantFrom(...pools.refreshTokens), fc.string({ minLength: 1, maxLength: 40 }));
  }
  if (name === 'password' || name === 'new_password') {
    return fc.oneof(
      fc.string({ minLength: 12, maxLength: 40 }).map((s) => `Fz-${s}-9a`),
      fc.constantFrom('password', '12345678', 'x'),
    );
  }
  if (name === 'username') return fc.stringMatching(/^[a-z][\w.@+-]{2,20}$/).map((s) => `fz${s}`);
  if (name === 'email') return fc.emailAddress().filter((e) => e.length <= 254);
  if (name === 'sku' || name === 'slug')
    return fc.stringMatching(/^[a-z0-9][-a-z0-9_]{2,30}$/).map((s) => `fz-${s}`);
  if (name === 'attributes' || name === 'dimensions') {
    return fc.dictionary(
      fc.oneof(fc.constantFrom('color', 'size', 'width', 'height'), fc.string({ maxLength: 10 })),
      fc.oneof(
        { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
        { weight: 1, arbitrary: hostileValue },
      ),
      { maxKeys: 5 },
    );
  }
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((branch) => validFor(name, branch, pools)));
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({
        min: schema.minimum ?? -1000,
        max: Math.min(schema.maximum ?? 1_000_000, 1_000_000),
      });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(validFor(name, schema.items ?? {}, pools), {
        maxLength: Math.min(schema.maxItems ?? 3, 3),
      });
    case 'object':
      return objectFor(schema, pools);
    case 'string': {
      if (schema.format === 'uuid') return fc.uuid();
      if (schema.format === 'email') return fc.emailAddress();
      const minLength = schema.minLength ?? 0;
      const maxLength = Math.max(minLength, Math.min(schema.maxLength ?? 40, 40));
      if (schema.pattern) {
        return fc
          .stringMatching(new RegExp(schema.pattern))
          .filter((s) => s.length >= minLength && s.length <= (schema.maxLength ?? Infinity));
      }
      return fc.string({ minLength, maxLength });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** An object of the schema: required fields nearly always, optional ones half the time. */
export function objectFor(schema: JsonSchema, pools: Pools): fc.Arbitrary<Record<string, unknown>> {
  const entries = Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const required = schema.required?.includes(name) ?? false;
    // Exact odds (fast-check biases integers and doubles towards their bounds).
    const present = required
      ? fc.oneof({ weight: 19, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) })
      : fc.oneof({ weight: 2, arbitrary: fc.constant(true) }, { weight: 3, arbitrary: fc.constant(false) });
    return fc
      .tuple(present, validFor(name, property, pools))
      .map(([keep, value]): [string, unknown] | undefined => (keep ? [name, value] : undefined));
  });
  return fc
    .tuple(...entries)
    .map((pairs) => objectOf(pairs.filter((p): p is [string, unknown] => p !== undefined)));
}

// ---------------------------------------------------------------------------------------------
// DRF's error shapes.

/** Why a 4xx answer is not one of DRF's shapes, or undefined when it is. */
export function drfShapeProblem(response: {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}): string | undefined {
  const header = response.headers['content-type'];
  const contentType = typeof header === 'string' ? header : '';
  if (!/^application\/json/.test(contentType)) return `content-type is "${contentType}", not JSON`;
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    return 'the body is not JSON';
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'the body is not an object';
  const record = body as Record<string, unknown>;
  if ('detail' in record) {
    if (typeof record.detail !== 'string') return '`detail` is not a string';
    const extra = Object.keys(record).filter((key) => key !== 'detail' && key !== 'code');
    if (extra.length > 0) return `keys beside detail: ${extra.join(', ')}`;
    if ('code' in record && typeof record.code !== 'string') return '`code` is not a string';
    return undefined;
  }
  const fields = Object.entries(record);
  if (fields.length === 0) return 'an empty object';
  for (const [field, messages] of fields) {
    if (!Array.isArray(messages) || messages.length === 0 || !messages.every((m) => typeof m === 'string')) {
      return `field "${field}" is not a list of strings`;
    }
  }
  return undefined;
}
