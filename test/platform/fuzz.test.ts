import { writeFileSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import fc from 'fast-check';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/modules/accounts/passwords.js';
import { users, type User } from '../../src/modules/accounts/tables.js';
import { bearer, makeUser, PASSWORD, tokensFor } from '../helpers/accounts.js';
import {
  createFuzzApp,
  drfShapeProblem,
  encodeSafe,
  EXTREME_DATES,
  EXTREME_NUMBERS,
  hostileString,
  hostileValue,
  objectFor,
  objectOf,
  operationsOf,
  pathSegment,
  RawJson,
  writeJson,
  type FuzzApp,
  type LogRecord,
  type Operation,
  type Pools,
} from '../helpers/fuzz.js';

/*
 * Property-based fuzz of every operation in the OpenAPI document (SPEC §2: bad input never yields
 * a 500; every error body has DRF's shapes), as anonymous, a customer, staff and a superuser.
 *
 *   npm test -- test/platform/fuzz.test.ts                       # the default, a few thousand requests
 *   FUZZ_RUNS=30000 npx vitest run test/platform/fuzz.test.ts    # a long run
 *   FUZZ_SEED=123 …                                              # replay a seed that fast-check printed
 *   FUZZ_REPORT=/tmp/fuzz.json …                                 # do not stop at the first failure: run
 *       every request, then fail listing each distinct cause (and write them, with figures, to the file)
 *
 * On a failure fast-check shrinks the request to a minimal one, printed with the answer and the
 * server's `unhandled error` log line.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const REPORT = process.env.FUZZ_REPORT;
const ALLOWED_ORIGIN = 'http://shop.example';

type Role = 'anonymous' | 'customer' | 'staff' | 'superuser';
const ROLES: Role[] = ['anonymous', 'customer', 'staff', 'superuser'];

interface FuzzRequest {
  operation: string;
  role: Role;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: Buffer;
}

interface Problem {
  kind: '5xx' | 'not DRF-shaped' | 'error logged';
  cause: string;
  request: FuzzRequest;
  status: number;
  body: string;
  log?: LogRecord;
}

// ---------------------------------------------------------------------------------------------
// Requests.

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'SEARCH', 'PROPFIND'];

/** One header, absent most of the time. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>, weight = 1, absent = 6) =>
  fc.oneof({ weight: absent, arbitrary: fc.constant(undefined) }, { weight, arbitrary });

const forgedJwt = (header: object, payload: object) =>
  [header, payload].map((part) => Buffer.from(JSON.stringify(part)).toString('base64url')).join('.') + '.';

const GARBAGE_AUTHORIZATION = [
  'Bearer',
  'Bearer ',
  'Bearer x',
  'Bearer a.b.c',
  `Bearer ${'a'.repeat(5000)}`,
  'Basic Zm9vOmJhcg==',
  'Token abc',
  'bearer',
  `Bearer ${forgedJwt({ alg: 'none', typ: 'JWT' }, { token_type: 'access', user_id: 1, jti: 'x' })}`,
  `Bearer ${forgedJwt({ alg: 'HS256' }, { token_type: 'access', user_id: '1', jti: 'x', exp: 2 ** 70 })}`,
  `Bearer ${forgedJwt({ alg: 'HS256' }, { token_type: 'access', user_id: 2 ** 63 })}`,
];

const hostHeader = fc.oneof(
  fc.constantFrom(
    'a b',
    'x:99999',
    'x:-1',
    'x:0',
    'x:65536',
    'evil.example',
    'evil.example:8000',
    '[::1]',
    '[::1',
    '[::1]:99999',
    'localhost:8000:1',
    '',
    'h'.repeat(300),
    '127.0.0.1:80',
    'a\tb',
    'ä.example',
    'user@evil.example',
    'evil.example/path',
    'evil.example?x',
    'evil.example#x',
    '%00',
    'a%20b',
  ),
  hostileString,
);

const forwardedFor = fc.oneof(
  fc.constantFrom('1.2.3.4', '1.2.3.4, 5.6.7.8', 'garbage', '999.999.999.999', '::1', '', ', ,', 'unknown'),
  fc.ipV4(),
  fc.ipV6(),
  hostileString,
);

/**
 * A header value as a server reads it off a socket: what a client writes in UTF-8, read back as
 * latin1. Undefined for what Node's HTTP parser refuses before any application code runs (control
 * characters): `inject` would hand those to the application, as no real connection can.
 */
function onTheWire(value: string): string | undefined {
  const latin1 = Buffer.from(value, 'utf8').toString('latin1');
  // eslint-disable-next-line no-control-regex
  return /[\x00-\x08\x0a-\x1f\x7f]/.test(latin1) ? undefined : latin1;
}

const headersArbitrary = (hasBody: boolean, multipart: boolean) =>
  fc
    .tuple(
      sometimes(hostHeader, 1, 8),
      sometimes(forwardedFor),
      sometimes(fc.oneof(hostHeader, fc.constant('evil.example'))),
      sometimes(fc.constantFrom('https', 'http', 'javascript', 'ftp', 'http, https', '')),
      sometimes(fc.oneof(fc.uuid(), hostileString, fc.constant('x'.repeat(300)))),
      hasBody
        ? fc.oneof(
            {
              weight: 30,
              arbitrary: fc.constant(
                multipart ? 'multipart/form-data; boundary=fuzzboundary' : 'application/json',
              ),
            },
            {
              weight: 4,
              arbitrary: fc.constantFrom(
                'application/json; charset=utf-8',
                'application/json; charset=utf-16',
                'application/json; charset=latin1',
                'APPLICATION/JSON',
                'application/vnd.api+json',
                'application/json;',
                'application/json; boundary=x',
                'text/plain',
                'text/html',
                'application/x-www-form-urlencoded',
                'multipart/form-data',
                'multipart/form-data; boundary=fuzzboundary',
                'multipart/form-data; boundary=',
                'application/octet-stream',
                'application/xml',
                '*/*',
                ';',
                'application',
                'a'.repeat(1000),
              ),
            },
            { weight: 1, arbitrary: hostileString },
            { weight: 1, arbitrary: fc.constant(undefined) },
          )
        : sometimes(fc.constantFrom('application/json', 'text/plain', 'multipart/form-data')),
      sometimes(
        fc.constantFrom('application/json', 'text/html', '*/*', 'application/xml', 'application/yaml', ''),
      ),
      sometimes(fc.constantFrom('*', '"abc"', 'W/"x"', '"', 'W/', '""', '*, "a"')),
      sometimes(fc.oneof(fc.constantFrom('ok-id', 'a'.repeat(129), 'a b', '../x'), hostileString)),
      sometimes(fc.constantFrom(...GARBAGE_AUTHORIZATION)),
      sometimes(fc.oneof(fc.constantFrom(ALLOWED_ORIGIN, 'http://evil.example', 'null', ''), hostileString)),
      sometimes(fc.constantFrom('gzip', 'br', 'identity;q=0', '*;q=0', 'x'.repeat(500))),
      sometimes(fc.constantFrom('a=b', 'sessionid=x; csrftoken=y', '=', ';;;')),
    )
    .map(
      ([
        host,
        xff,
        xfHost,
        xfProto,
        idem,
        contentType,
        accept,
        ifNoneMatch,
        requestId,
        auth,
        origin,
        enc,
        cookie,
      ]) => {
        const headers: Record<string, string> = {};
        const set = (name: string, value: string | undefined) => {
          const wire = value === undefined ? undefined : onTheWire(value);
          if (wire !== undefined) headers[name] = wire;
        };
        set('host', host);
        set('x-forwarded-for', xff);
        set('x-forwarded-host', xfHost);
        set('x-forwarded-proto', xfProto);
        set('idempotency-key', idem);
        set('content-type', contentType);
        set('accept', accept);
        set('if-none-match', ifNoneMatch);
        set('x-request-id', requestId);
        set('authorization', auth);
        set('origin', origin);
        set('accept-encoding', enc);
        set('cookie', cookie);
        return headers;
      },
    );

const preflightHeaders = fc
  .tuple(
    fc.oneof(fc.constantFrom(ALLOWED_ORIGIN, 'http://evil.example', 'null'), hostileString),
    fc.oneof(fc.constantFrom('GET', 'POST', 'DELETE', 'FOO', '', 'get', 'GET, POST'), hostileString),
    sometimes(
      fc.oneof(fc.constantFrom('authorization', 'content-type, x-request-id', '*', ''), hostileString),
      1,
      1,
    ),
  )
  .map(([origin, method, requestHeaders]) => {
    const headers: Record<string, string> = { origin, 'access-control-request-method': method };
    if (requestHeaders !== undefined) headers['access-control-request-headers'] = requestHeaders;
    for (const [name, value] of Object.entries(headers)) {
      const wire = onTheWire(value);
      if (wire === undefined) delete headers[name];
      else headers[name] = wire;
    }
    return headers;
  });

/** A query value for a documented parameter: plausible values first, hostile ones often. */
/** A value a well-behaved client would send, so the list's query, pages and links run. */
function plausibleQueryValue(name: string, pools: Pools): fc.Arbitrary<string> {
  switch (name) {
    case 'page':
      return fc.integer({ min: 1, max: 3 }).map(String);
    case 'page_size':
      return fc.integer({ min: 1, max: 100 }).map(String);
    case 'min_price':
    case 'max_price':
      return fc.oneof(fc.integer({ min: 0, max: 50 }).map(String), fc.constantFrom('4.99', '19.99', '0.5'));
    case 'created_after':
    case 'created_before':
      return fc
        .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
        .chain((d) => fc.constantFrom(d.toISOString(), d.toISOString().slice(0, 10)));
    case 'is_verified':
    case 'is_active':
    case 'is_digital':
    case 'include_deleted':
      return fc.constantFrom('true', 'false', '1', '0');
    case 'search':
      return fc.constantFrom('lamp', 'Lamp ebook', 'fz', 'user', 'example', 'fuzz child', 'e');
    case 'ordering':
      return fc.constantFrom('price', '-price', 'created_at,-name', 'name', '-username', 'email');
    case 'category':
      return fc.constantFrom(...pools.categories);
    case 'format':
      return fc.constantFrom('json', 'yaml');
    default:
      return fc.string({ maxLength: 5 });
  }
}

function queryValue(name: string, pools: Pools, hostility = 2): fc.Arbitrary<string> {
  if (hostility === 0) return plausibleQueryValue(name, pools);
  // Plausible requests (hostility 0) keep to values a client might send.
  const hostile = { weight: hostility, arbitrary: hostility > 0 ? hostileString : fc.constant('1') };
  switch (name) {
    case 'page':
    case 'page_size':
      return fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: -2, max: 120 }).map(String) },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            '0',
            '-1',
            '999999999',
            '99999999999999999999',
            '1e309',
            'abc',
            '1.5',
            ' 1',
            '0x1',
          ),
        },
        hostile,
      );
    case 'min_price':
    case 'max_price':
      return fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: 0, max: 500 }).map(String) },
        {
          weight: 3,
          arbitrary: fc.constantFrom(
            ...EXTREME_NUMBERS,
            'NaN',
            'Infinity',
            '-Infinity',
            '1,5',
            '.5',
            '5.',
            '+1',
            '١٢',
          ),
        },
        hostile,
      );
    case 'created_after':
    case 'created_before':
      return fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...EXTREME_DATES) },
        {
          weight: 2,
          arbitrary: fc
            .date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true })
            .map((d) => d.toISOString()),
        },
        { weight: 1, arbitrary: fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)) },
        hostile,
      );
    case 'is_verified':
    case 'is_active':
    case 'is_digital':
    case 'include_deleted':
      return fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom('true', 'false', '1', '0', 'True', 'yes', '', 'null', '2') },
        hostile,
      );
    case 'search':
      return fc.oneof(
        {
          weight: 2,
          arbitrary: fc.constantFrom('lamp', 'a b', '%', '_', '\\', 'a'.repeat(201), 'a '.repeat(30)),
        },
        { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
        { weight: 3, arbitrary: hostileString },
      );
    case 'ordering':
      return fc.oneof(
        {
          weight: 4,
          arbitrary: fc
            .array(
              fc.constantFrom(
                'price',
                '-price',
                'created_at',
                '-created_at',
                'name',
                '-name',
                'id',
                'username',
                '-date_joined',
                '--price',
                '',
                'password',
              ),
              { maxLength: 4 },
            )
            .map((fields) => fields.join(',')),
        },
        hostile,
      );
    case 'category':
      return fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...pools.categories) },
        { weight: 1, arbitrary: fc.constantFrom(...pools.categories).map((c) => c.toUpperCase()) },
        { weight: 1, arbitrary: fc.uuid() },
        hostile,
      );
    case 'format':
      return fc.oneof({ weight: 3, arbitrary: fc.constantFrom('json', 'yaml', 'YAML', 'xml') }, hostile);
    default:
      return hostileString;
  }
}

const EXTRA_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'page[]',
  'a[b]',
  'toString',
  'hasOwnProperty',
  '%00',
  'x'.repeat(1000),
  '',
  'Page',
  'format',
  'page',
  'search',
  'min_price',
  'created_after',
  'ordering',
];

/** `?a=b&…`, each pair percent-encoded or sent as written (invalid escapes, raw NULs and surrogates). */
function queryArbitrary(operation: Operation, pools: Pools, hostility = 2): fc.Arbitrary<string> {
  const documented = operation.query.map((param) =>
    sometimes(
      fc.tuple(fc.constant(param.name), queryValue(param.name, pools, hostility), fc.boolean()),
      2,
      3,
    ),
  );
  const extra = fc.array(fc.tuple(fc.constantFrom(...EXTRA_KEYS), hostileString, fc.boolean()), {
    maxLength: hostility > 0 ? 2 : 0,
  });
  return fc.tuple(fc.tuple(...documented), extra).map(([params, extras]) => {
    const pairs = [...params.filter((p) => p !== undefined), ...extras];
    if (pairs.length === 0) return '';
    return (
      '?' +
      pairs.map(([k, v, encode]) => (encode ? `${encodeSafe(k)}=${encodeSafe(v)}` : `${k}=${v}`)).join('&')
    );
  });
}

const INVALID_UTF8 = [
  [0xff],
  [0x80],
  [0xc3, 0x28],
  [0xed, 0xa0, 0x80],
  [0xc0, 0xaf],
  [0xf4, 0x90, 0x80, 0x80],
];

/** A JSON body: a mostly valid object with a few hostile fields, or a hostile document, or broken JSON. */
function jsonBody(operation: Operation, pools: Pools): fc.Arbitrary<Buffer | undefined> {
  const schema = operation.body?.schema ?? { type: 'object', properties: {} };
  const names = Object.keys(schema.properties ?? {});
  const fieldName = fc.oneof(
    { weight: 5, arbitrary: names.length > 0 ? fc.constantFrom(...names) : fc.constant('name') },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '__proto__',
        'constructor',
        'prototype',
        'is_staff',
        'id',
        '',
        'x'.repeat(300),
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
  );
  const mutated = fc
    .tuple(
      objectFor(schema, pools),
      fc.oneof(
        { weight: 2, arbitrary: fc.constant([]) },
        { weight: 3, arbitrary: fc.array(fc.tuple(fieldName, hostileValue), { minLength: 1, maxLength: 2 }) },
      ),
    )
    .map(([object, mutations]) =>
      writeJson(
        objectOf([
          ...Object.entries(object).filter(([k]) => !mutations.some(([m]) => m === k)),
          ...mutations,
        ]),
      ),
    );
  const invalidUtf8 = fc
    .tuple(objectFor(schema, pools), fc.constantFrom(...INVALID_UTF8))
    .map(([object, bytes]) => {
      const key = Object.keys(object).find((k) => typeof object[k] === 'string') ?? names[0] ?? 'name';
      return writeJson(objectOf([...Object.entries(object), [key, new RawJson(Buffer.from(bytes))]]));
    });
  const brokenText = fc.constantFrom(
    '{',
    '{"a":',
    '',
    ' ',
    'null',
    '[]',
    '"str"',
    '1e309',
    '-0',
    'true',
    '{"a":1,"a":2}',
    '{"__proto__":{"is_staff":true}}',
    '{"constructor":{"prototype":{"is_staff":true}}}',
    '\uFEFF{}',
    '{"name":"\\x41"}',
    '{"name":"\\u12"}',
    '{"name":"\\ud800"}',
    '{"name":"a\\u0000"}',
    '{name: 1}',
    "{'name': 1}",
    '{"name": NaN}',
    '{"name": Infinity}',
    '{"name": 01}',
    '{"name": 1,}',
    '['.repeat(50_000),
    '{"a":'.repeat(100_000),
    'x'.repeat(1024 * 1024 + 10),
  );
  return fc.oneof(
    { weight: 10, arbitrary: mutated },
    { weight: 2, arbitrary: hostileValue.map(writeJson) },
    { weight: 1, arbitrary: invalidUtf8 },
    { weight: 2, arbitrary: brokenText.map((text) => Buffer.from(text, 'utf8')) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

/** A well-formed upload of a real image, with an alt text now and then. */
function plausibleForm(images: Buffer[]): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.constantFrom(...images), fc.constantFrom(undefined, 'A lamp', 'é 😀'))
    .map(([image, altText]) =>
      Buffer.concat([
        Buffer.from(
          '--fuzzboundary\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n' +
            'Content-Type: image/png\r\n\r\n',
        ),
        image,
        Buffer.from(
          (altText === undefined
            ? ''
            : `\r\n--fuzzboundary\r\nContent-Disposition: form-data; name="alt_text"\r\n\r\n${altText}`) +
            '\r\n--fuzzboundary--\r\n',
        ),
      ]),
    );
}

/** A multipart/form-data body (boundary `fuzzboundary`) for the image upload, or a broken one. */
function multipartBody(images: Buffer[]): fc.Arbitrary<Buffer | undefined> {
  const file = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...images) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        Buffer.alloc(0),
        Buffer.from('GIF89a garbage'),
        Buffer.from('\x89PNG\r\n\x1a\n truncated', 'latin1'),
        Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
        Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]),
      ),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)) },
  );
  const filename = fc.oneof(
    fc.constantFrom('a.png', '../../x.png', 'a\u0000.png', '', 'x'.repeat(300) + '.png', 'é.png', 'a".png'),
    hostileString,
  );
  const fieldName = fc.oneof(
    { weight: 6, arbitrary: fc.constant('image') },
    { weight: 1, arbitrary: hostileString },
  );
  const part = (name: string, value: Buffer, fileName?: string, type = 'image/png') =>
    Buffer.concat([
      Buffer.from(
        `--fuzzboundary\r\nContent-Disposition: form-data; name="${name}"` +
          (fileName !== undefined ? `; filename="${fileName}"\r\nContent-Type: ${type}` : '') +
          '\r\n\r\n',
      ),
      value,
      Buffer.from('\r\n'),
    ]);
  const form = fc
    .tuple(
      fc.array(fc.tuple(fieldName, file, filename), { minLength: 0, maxLength: 2 }),
      sometimes(fc.oneof(hostileString, fc.constantFrom('A lamp', 'x'.repeat(300))), 2, 1),
      fc.constantFrom('image/png', 'image/jpeg', 'text/plain', '', 'image/svg+xml'),
      fc.constantFrom('end', 'end', 'end', 'truncated', 'no-end'),
    )
    .map(([files, altText, type, ending]) => {
      const parts = files.map(([name, bytes, fileName]) => part(name, bytes, fileName, type));
      if (altText !== undefined) parts.push(part('alt_text', Buffer.from(altText, 'utf8')));
      if (ending === 'end') parts.push(Buffer.from('--fuzzboundary--\r\n'));
      const body = Buffer.concat(parts);
      return ending === 'truncated' ? body.subarray(0, Math.floor(body.length / 2)) : body;
    });
  return fc.oneof({ weight: 8, arbitrary: form }, { weight: 1, arbitrary: fc.constant(undefined) });
}

// ---------------------------------------------------------------------------------------------

describe('fuzz: every route of the OpenAPI document (SPEC §2: no 500, DRF-shaped errors)', () => {
  let fuzz: FuzzApp;
  let operations: Operation[];
  const actors = new Map<Role, { user: User; access: string }>();
  const pools: Pools & {
    users: string[];
    variants: string[];
    images: string[];
    productRefs: string[];
    verify: string[];
  } = {
    categories: [],
    products: [],
    refreshTokens: [],
    users: [],
    variants: [],
    images: [],
    productRefs: [],
    verify: [],
  };
  let images: Buffer[] = [];

  const adminHeaders = () => bearer(actors.get('superuser')!.access);

  async function signIn(role: Exclude<Role, 'anonymous'>, user: User) {
    actors.set(role, { user, access: (await tokensFor(fuzz.app, user.email)).access });
  }

  /** The fuzz may deactivate an actor, demote it or end its sessions: put it back as it was. */
  async function restoreActors() {
    for (const [role, actor] of actors) {
      const res = await fuzz.app.inject({
        method: 'GET',
        url: '/api/users/me/',
        headers: bearer(actor.access),
      });
      if (res.statusCode === 200) continue;
      const [user] = await fuzz.deps.db
        .update(users)
        .set({
          isActive: true,
          isVerified: true,
          isStaff: role !== 'customer',
          isSuperuser: role === 'superuser',
          password: await hashPassword(PASSWORD),
        })
        .where(eq(users.id, actor.user.id))
        .returning();
      await signIn(role as Exclude<Role, 'anonymous'>, user!);
    }
  }

  async function create(url: string, payload: object): Promise<Record<string, any>> {
    const res = await fuzz.app.inject({ method: 'POST', url, payload, headers: adminHeaders() });
    if (res.statusCode !== 201) throw new Error(`setup: POST ${url} → ${res.statusCode} ${res.body}`);
    return res.json();
  }

  beforeAll(async () => {
    fuzz = await createFuzzApp({ CORS_ORIGINS: ALLOWED_ORIGIN, DEMO_DATA: 'false' });
    operations = operationsOf(fuzz.app.swagger());

    await signIn('customer', await makeUser(fuzz.deps));
    await signIn('staff', await makeUser(fuzz.deps, { isStaff: true }));
    await signIn('superuser', await makeUser(fuzz.deps, { isStaff: true, isSuperuser: true }));
    fuzz.takeLogs();

    const victims = [
      await makeUser(fuzz.deps),
      await makeUser(fuzz.deps, { isVerified: false }),
      await makeUser(fuzz.deps, { isActive: false }),
      await makeUser(fuzz.deps, { isStaff: true }),
    ];
    pools.refreshTokens.push((await tokensFor(fuzz.app, victims[0]!.username)).refresh);
    pools.users.push(
      ...[...victims, ...[...actors.values()].map((a) => a.user)].map((u) => String(u.id)),
      '0',
      '-1',
      '2147483648',
      '9223372036854775808',
      '1.0',
      '01',
      '1e1',
    );
    pools.verify.push(
      pools.refreshTokens[0]!,
      forgedJwt({ alg: 'none' }, { token_type: 'verify_email', user_id: victims[1]!.id, jti: 'x' }),
      'a.b.c',
    );

    const root = await create('/api/categories/', { name: 'Fuzz root', slug: 'fuzz-root' });
    const child = await create('/api/categories/', {
      name: 'Fuzz child',
      slug: 'fuzz-child',
      parent: root.id,
    });
    const hidden = await create('/api/categories/', { name: 'Hidden', slug: 'hidden', is_active: false });
    pools.categories.push(root.id, child.id, hidden.id, 'fuzz-root', 'fuzz-child', 'hidden');

    const products = [
      await create('/api/products/', {
        name: 'Lamp',
        slug: 'lamp',
        sku: 'LAMP-1',
        price: '19.99',
        categories: ['fuzz-child'],
        attributes: { color: 'red', size: { w: 1, h: 2 } },
      }),
      await create('/api/products/', {
        name: 'Ebook',
        slug: 'ebook',
        sku: 'EBOOK-1',
        price: 5,
        is_digital: true,
      }),
      await create('/api/products/', {
        name: 'Off',
        slug: 'off',
        sku: 'OFF-1',
        price: '1.00',
        is_active: false,
      }),
      await create('/api/products/', { name: 'Gone', slug: 'gone', sku: 'GONE-1', price: '2.00' }),
    ];
    await fuzz.app.inject({
      method: 'DELETE',
      url: `/api/products/${products[3]!.id}/`,
      headers: adminHeaders(),
    });
    pools.products.push(...products.map((p) => String(p.id)));
    pools.productRefs.push(...pools.products, 'lamp', 'ebook', 'off', 'gone');
    for (const [i, product] of products.slice(0, 2).entries()) {
      const variant = await create(`/api/products/${product.id}/variants/`, {
        name: `V${i}`,
        sku: `V-${i}`,
        price: '3.50',
        stock: 5,
      });
      pools.variants.push(variant.id);
    }

    const png = await sharp({
      create: { width: 4, height: 3, channels: 3, background: { r: 9, g: 9, b: 9 } },
    })
      .png()
      .toBuffer();
    const gif = await sharp({ create: { width: 2, height: 2, channels: 4, background: '#fff0' } })
      .gif()
      .toBuffer();
    images = [png, gif];
    const form = new FormData();
    form.append('image', new Blob([png], { type: 'image/png' }), 'lamp.png');
    const upload = new Request('http://x/', { method: 'POST', body: form });
    const res = await fuzz.app.inject({
      method: 'POST',
      url: `/api/products/${products[0]!.id}/images/`,
      headers: { ...adminHeaders(), 'content-type': upload.headers.get('content-type')! },
      payload: Buffer.from(await upload.arrayBuffer()),
    });
    if (res.statusCode !== 201) throw new Error(`setup: image upload → ${res.statusCode} ${res.body}`);
    pools.images.push(res.json().id);
    fuzz.takeLogs();
  });
  afterAll(() => fuzz?.close());

  function idsFor(path: string, param: string): string[] {
    if (param === 'imageId') return pools.images;
    if (param === 'token') return pools.verify;
    if (path.includes('/images/')) return pools.products;
    if (path.startsWith('/api/users/')) return pools.users;
    if (path.startsWith('/api/categories/')) return pools.categories;
    if (path.startsWith('/api/variants/')) return pools.variants;
    if (path.startsWith('/api/products/')) return pools.productRefs;
    return pools.products;
  }

  function requestFor(operation: Operation): fc.Arbitrary<FuzzRequest> {
    const multipart = operation.body?.contentType === 'multipart/form-data';
    const hasBody = operation.body !== undefined;
    const segments = fc.tuple(
      ...operation.pathParams.map((param) => pathSegment(idsFor(operation.path, param))),
    );
    const method = fc.oneof(
      { weight: 24, arbitrary: fc.constant(operation.method) },
      { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
    );
    const body = multipart
      ? multipartBody(images)
      : hasBody
        ? jsonBody(operation, pools)
        : fc.oneof(
            { weight: 8, arbitrary: fc.constant(undefined) },
            { weight: 1, arbitrary: jsonBody(operation, pools) },
          );
    const hostile = fc
      .tuple(
        fc.constantFrom(...ROLES),
        method,
        segments,
        queryArbitrary(operation, pools),
        fc.constantFrom('', '', '', '', 'no-slash', 'double-slash', 'dot-segment'),
        headersArbitrary(hasBody, multipart),
        preflightHeaders,
        body,
      )
      .map(([role, verb, values, query, pathStyle, headers, preflight, payload]) => {
        let path = operation.path;
        operation.pathParams.forEach((param, i) => (path = path.replace(`{${param}}`, values[i]!)));
        if (pathStyle === 'no-slash') path = path.replace(/\/$/, '');
        if (pathStyle === 'double-slash') path = path.replace('/api/', '/api//');
        if (pathStyle === 'dot-segment') path = path.replace('/api/', '/api/./x/../');
        const request: FuzzRequest = {
          operation: `${operation.method} ${operation.path}`,
          role,
          method: verb,
          url: path + query,
          headers: verb === 'OPTIONS' ? { ...headers, ...preflight } : headers,
        };
        if (payload !== undefined && verb !== 'GET' && verb !== 'HEAD') request.payload = payload;
        else if (payload !== undefined && hasBody) request.payload = payload;
        return request;
      });
    // Plausible requests, so that the code behind validation runs too (and runs on odd but valid data).
    const plausible = fc
      .tuple(
        fc.constantFrom(...ROLES),
        fc.tuple(...operation.pathParams.map((param) => fc.constantFrom(...idsFor(operation.path, param)))),
        queryArbitrary(operation, pools, 0),
        multipart ? plausibleForm(images) : objectFor(operation.body?.schema ?? {}, pools).map(writeJson),
      )
      .map(([role, values, query, payload]): FuzzRequest => {
        let path = operation.path;
        operation.pathParams.forEach(
          (param, i) => (path = path.replace(`{${param}}`, encodeSafe(values[i]!))),
        );
        const request: FuzzRequest = {
          operation: `${operation.method} ${operation.path}`,
          role,
          method: operation.method,
          url: path + query,
          headers: {},
        };
        if (hasBody && payload !== undefined) {
          request.payload = payload;
          request.headers['content-type'] = multipart
            ? 'multipart/form-data; boundary=fuzzboundary'
            : 'application/json';
        }
        return request;
      });
    return fc.oneof({ weight: 3, arbitrary: hostile }, { weight: 1, arbitrary: plausible });
  }

  /** Paths the document does not list: docs, media, nowhere. */
  const undocumented: fc.Arbitrary<FuzzRequest> = fc
    .tuple(
      fc.constantFrom(ROLES[0]!, ROLES[3]!),
      fc.constantFrom('GET', 'HEAD', 'OPTIONS', 'POST', 'DELETE'),
      fc.constantFrom(
        '/api/docs/swagger/',
        '/api/docs/redoc/',
        '/media/products/',
        '/api/',
        '/',
        '/nowhere/',
        '/api/docs/swagger/static/',
      ),
      fc.oneof(hostileString, fc.constant('')),
      headersArbitrary(false, false),
    )
    .map(([role, method, base, tail, headers]) => ({
      operation: 'undocumented',
      role,
      method,
      url: base + tail,
      headers,
    }));

  // ---------------------------------------------------------------------------------------------

  const statuses = new Map<number, number>();
  const byOperation = new Map<string, Record<number, number>>();
  const problems: Problem[] = [];
  let sent = 0;
  let unsendable = 0;
  const unsendableExamples: string[] = [];

  /** The first frame of the application's own code (`src/`, not a dependency), relative to the project. */
  const appFrame = (stack: string | undefined) => {
    const lines = (stack ?? '').split('\n').map((line) => line.trim());
    const frame =
      lines.find(
        (line) => line.startsWith('at ') && /\/src\//.test(line) && !line.includes('node_modules'),
      ) ??
      lines.find((line) => line.startsWith('at ')) ??
      '';
    return frame
      .replace(/^at /, '')
      .replace(/[^(\s]*\/(src|node_modules)\//, '$1/')
      .replace(/\)$/, '');
  };

  /** What a cause is called in the report: the root error's message and where the application met it. */
  function causeOf(
    kind: Problem['kind'],
    status: number,
    body: string,
    log?: LogRecord,
    shape?: string,
  ): string {
    if (kind === 'not DRF-shaped') {
      let code = '';
      try {
        const parsed = JSON.parse(body) as { code?: unknown };
        if (typeof parsed.code === 'string') code = ` (${parsed.code})`;
      } catch {
        code = ` (${JSON.stringify(body.slice(0, 60))})`;
      }
      return `${status}: ${shape}${code}`;
    }
    if (!log) return `${status} without an error log line: ${body.slice(0, 120)}`;
    const err = log.err;
    const stack = err?.stack ?? '';
    const causedBy = stack
      .split('\n')
      .filter((line) => line.trim().startsWith('caused by: '))
      .pop();
    const message = (
      causedBy?.trim().replace(/^caused by: /, '') ??
      `${err?.type ?? 'log'}: ${err?.message ?? log.msg ?? ''}`
    )
      .replace(/\d+/g, 'N')
      .slice(0, 160);
    return `${message} @ ${appFrame(stack)}`;
  }

  function describeRequest(r: FuzzRequest): string {
    const payload = r.payload
      ? `${r.payload.length} bytes: ${JSON.stringify(r.payload.subarray(0, 600).toString('utf8'))}${r.payload.length > 600 ? '…' : ''}`
      : '(none)';
    return [
      `  as ${r.role}: ${r.method} ${JSON.stringify(r.url.length > 600 ? r.url.slice(0, 600) + '…' : r.url)}`,
      `  headers: ${JSON.stringify(r.headers, (_k, v: unknown) => (typeof v === 'string' && v.length > 200 ? v.slice(0, 200) + '…' : v))}`,
      `  body: ${payload}`,
    ].join('\n');
  }

  function describeProblem(p: Problem): string {
    return [
      `${p.kind}: ${p.cause}`,
      describeRequest(p.request),
      `  → ${p.status} ${p.body.slice(0, 500)}`,
      p.log?.err?.stack ? `  server: ${p.log.err.stack.split('\n').slice(0, 8).join('\n    ')}` : '',
    ]
      .filter(Boolean)
      .join('\n');
  }

  /** Sends one request; returns the problems it shows (none when the server behaved). */
  async function check(r: FuzzRequest): Promise<Problem[]> {
    const headers = { ...r.headers };
    const actor = r.role === 'anonymous' ? undefined : actors.get(r.role);
    if (actor && headers.authorization === undefined) headers.authorization = `Bearer ${actor.access}`;
    fuzz.takeLogs();
    let res;
    try {
      res = await fuzz.app.inject({ method: r.method as 'GET', url: r.url, headers, payload: r.payload });
    } catch (err) {
      // light-my-request refused to build it (a header value no HTTP client could send).
      unsendable++;
      if (unsendableExamples.length < 5) unsendableExamples.push(`${String(err)}\n${describeRequest(r)}`);
      return [];
    }
    sent++;
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    const perOperation = byOperation.get(r.operation) ?? {};
    perOperation[res.statusCode] = (perOperation[res.statusCode] ?? 0) + 1;
    byOperation.set(r.operation, perOperation);
    const logs = fuzz.takeLogs();
    const errorLog = logs.find((l) => l.level >= 50);
    const found: Problem[] = [];
    const body = res.body;
    if (res.statusCode >= 500) {
      found.push({
        kind: '5xx',
        cause: causeOf('5xx', res.statusCode, body, errorLog),
        request: r,
        status: res.statusCode,
        body,
        log: errorLog,
      });
    } else if (errorLog) {
      found.push({
        kind: 'error logged',
        cause: causeOf('5xx', res.statusCode, body, errorLog),
        request: r,
        status: res.statusCode,
        body,
        log: errorLog,
      });
    }
    if (res.statusCode >= 400 && res.statusCode < 500 && r.method !== 'HEAD') {
      const shape = drfShapeProblem(res);
      if (shape) {
        found.push({
          kind: 'not DRF-shaped',
          cause: causeOf('not DRF-shaped', res.statusCode, body, undefined, shape),
          request: r,
          status: res.statusCode,
          body,
        });
      }
    }
    return found;
  }

  it(
    `answers ${RUNS} hostile requests without a 5xx, every error in DRF's shape, and stays up`,
    async () => {
      const anyRequest = fc.tuple(
        fc.oneof(...operations.map((operation) => ({ weight: 4, arbitrary: requestFor(operation) })), {
          weight: 1,
          arbitrary: undocumented,
        }),
        // Now and then the same request three times at once: races (two creates of one slug).
        fc.oneof({ weight: 9, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constant(3) }),
      );
      let lastFailure = '';
      let runs = 0;
      const started = Date.now();
      await fc.assert(
        fc.asyncProperty(anyRequest, async ([request, copies]) => {
          if (++runs % 100 === 0) await restoreActors();
          const found =
            copies === 1
              ? await check(request)
              : (await Promise.all(Array.from({ length: copies }, () => check(request)))).flat();
          if (REPORT) {
            problems.push(...found);
            return;
          }
          if (found.length > 0) {
            lastFailure =
              (copies > 1 ? `(sent ${copies} times at once)\n` : '') + found.map(describeProblem).join('\n');
            throw new Error(lastFailure);
          }
        }),
        {
          numRuns: RUNS,
          seed: SEED,
          reporter(details) {
            if (!details.failed) return;
            throw new Error(
              `The fuzz found a request the server mishandles (seed ${details.seed}, path "${details.counterexamplePath}", ` +
                `shrunk ${details.numShrinks} times; replay with FUZZ_SEED=${details.seed}).\nMinimal counterexample:\n` +
                (lastFailure || String(details.errorInstance)),
            );
          },
        },
      );
      const seconds = (Date.now() - started) / 1000;

      const health = await fuzz.app.inject({ method: 'GET', url: '/health/' });
      expect(health.statusCode).toBe(200);
      expect((await fuzz.app.inject({ method: 'GET', url: '/health/live/' })).statusCode).toBe(200);

      const histogram = Object.fromEntries([...statuses].sort(([a], [b]) => a - b));
      const fiveXx = [...statuses].filter(([status]) => status >= 500).reduce((n, [, count]) => n + count, 0);
      const figures = { runs, requests: sent, unsendable, seconds, statuses: histogram, fiveXx };
      console.log(`fuzz: ${JSON.stringify(figures)}`);

      if (REPORT) {
        const causes = new Map<string, { count: number; example: Problem }>();
        for (const p of problems) {
          const key = `${p.kind} | ${p.cause}`;
          const entry = causes.get(key);
          if (entry) entry.count++;
          // Keep the shortest reproducer of each cause.
          else causes.set(key, { count: 1, example: p });
          if (entry && describeRequest(p.request).length < describeRequest(entry.example.request).length) {
            entry.example = p;
          }
        }
        const grouped = [...causes].sort((a, b) => b[1].count - a[1].count);
        writeFileSync(
          REPORT,
          JSON.stringify(
            {
              figures,
              byOperation: Object.fromEntries(byOperation),
              unsendableExamples,
              causes: grouped.map(([cause, { count, example }]) => ({
                cause,
                count,
                reproducer: describeProblem(example),
              })),
            },
            null,
            2,
          ),
        );
        expect(
          grouped.map(
            ([cause, { count, example }]) =>
              `${count}× ${describeProblem({ ...example, cause })}\n(${cause})`,
          ),
        ).toEqual([]);
      }
    },
    Math.max(120_000, RUNS * 200),
  );
});
