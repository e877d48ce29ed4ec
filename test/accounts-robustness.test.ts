import { createServer, type AddressInfo, type Socket } from 'node:net';
import { and, asc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEND_VERIFICATION_EMAIL } from '../src/modules/accounts/registration.js';
import { passwordResetTokens, refreshTokens, users, type User } from '../src/modules/accounts/tables.js';
import { tokenHash } from '../src/modules/accounts/tokens.js';
import { jobs, type JobRow } from '../src/platform/jobs/tables.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { settleJobs } from './helpers/jobs.js';
import { bearer, linkIn, makeUser, PASSWORD, signedInUser, tokensFor } from './helpers/accounts.js';
import { recipientsOf, startSmtpSink, type SmtpSink } from './helpers/smtp.js';
import { freePort, waitFor } from './helpers/wait.js';

/*
 * Robustness of the accounts endpoints (SPEC §2, §3, §9): bad input is a 400 per field and writes
 * nothing; races on registration and on refresh-token rotation have one winner; a down SMTP server
 * never fails registration, and the verification mail's job retries and records its attempts.
 */

const GOOD_PASSWORD = 'Tulip-Orbit-Canvas-42';
const NEW_PASSWORD = 'Quartz-Meadow-Lantern-77';
const REQUIRED = 'This field is required.';
const NOT_A_STRING = 'Not a valid string.';
const NOT_A_BOOLEAN = 'Must be a valid boolean.';
const BAD_EMAIL = 'Enter a valid email address.';
const BLANK = 'This field may not be blank.';
const USERNAME_TAKEN = 'A user with that username already exists.';
const EMAIL_TAKEN = 'A user with this email already exists.';
const BAD_USERNAME =
  'Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.';
const TOKEN_NOT_VALID = { detail: 'Token is invalid or expired', code: 'token_not_valid' };
const NOT_FOUND = { detail: 'Not found.' };

const tooLong = (max: number) => `Ensure this field has no more than ${max} characters.`;

function registration(username: string, email: string, extra: Record<string, unknown> = {}) {
  return {
    username,
    email,
    password: GOOD_PASSWORD,
    first_name: 'Robust',
    last_name: 'Tester',
    ...extra,
  };
}

/** Every row of the tables a refused request could touch, and their counts. */
async function snapshot(t: TestApp) {
  const { db } = t.deps;
  await settleJobs(t.deps);
  const rows = {
    users: await db.select().from(users).orderBy(asc(users.id)),
    refresh_tokens: await db.select().from(refreshTokens).orderBy(asc(refreshTokens.id)),
    password_reset_tokens: await db.select().from(passwordResetTokens).orderBy(asc(passwordResetTokens.id)),
    jobs: await db.select().from(jobs).orderBy(asc(jobs.id)),
  };
  const counts = Object.fromEntries(Object.entries(rows).map(([table, list]) => [table, list.length]));
  return { counts, rows };
}

async function expectUnchanged(t: TestApp, before: Awaited<ReturnType<typeof snapshot>>) {
  const after = await snapshot(t);
  expect(after.counts).toEqual(before.counts);
  expect(after.rows).toEqual(before.rows);
}

async function userById(t: TestApp, id: number): Promise<User> {
  const [row] = await t.deps.db.select().from(users).where(eq(users.id, id));
  if (!row) throw new Error(`no user ${id}`);
  return row;
}

async function verificationJob(t: TestApp, userId: number): Promise<JobRow | undefined> {
  const [row] = await t.deps.db
    .select()
    .from(jobs)
    .where(and(eq(jobs.name, SEND_VERIFICATION_EMAIL), sql`(${jobs.payload}->>'user_id')::int = ${userId}`));
  return row;
}

// ---------------------------------------------------------------------------------------------
// A. Bad input on every endpoint that takes a body
// ---------------------------------------------------------------------------------------------

type FieldKind = 'string' | 'email' | 'boolean';

interface FieldSpec {
  kind: FieldKind;
  /** The schema's maxLength; undefined when the field has none (then no 10,000-character case). */
  max?: number;
  required?: boolean;
  /** An empty string is refused with DRF's "This field may not be blank.". */
  notBlank?: boolean;
  /** What a 10,000-character value is made of, so that only its length is wrong. */
  filler?: string;
}

interface Ctx {
  t: TestApp;
  member: { user: User; refresh: string; headers: Record<string, string> };
  staff: { headers: Record<string, string> };
  target: User;
}

interface Endpoint {
  method: 'POST' | 'PATCH';
  path: (ctx: Ctx) => string;
  label: string;
  as?: 'member' | 'staff';
  /** A body that passes validation; each case spoils one field of it. */
  valid: (ctx: Ctx) => Record<string, unknown>;
  fields: Record<string, FieldSpec>;
  /** What `{}` answers; defaults to "This field is required." on every required field. */
  emptyBody?: Record<string, string[]>;
}

const endpoints: Endpoint[] = [
  {
    method: 'POST',
    label: '/api/register/',
    path: () => '/api/register/',
    valid: () => ({
      ...registration('robust_newcomer', 'robust.newcomer@example.com'),
      phone: '+1 555 0100',
    }),
    fields: {
      username: { kind: 'string', max: 150, required: true, notBlank: true },
      email: { kind: 'email', max: 254, required: true },
      password: { kind: 'string', max: 128, required: true, notBlank: true },
      first_name: { kind: 'string', max: 150, required: true, notBlank: true },
      last_name: { kind: 'string', max: 150, required: true, notBlank: true },
      phone: { kind: 'string', max: 20, filler: '1' },
    },
  },
  {
    method: 'POST',
    label: '/api/resend-verification/',
    path: () => '/api/resend-verification/',
    valid: (ctx) => ({ email: ctx.member.user.email }),
    fields: { email: { kind: 'email', max: 254, required: true } },
  },
  {
    method: 'POST',
    label: '/api/auth/token/',
    path: () => '/api/auth/token/',
    valid: (ctx) => ({ username: ctx.member.user.username, password: PASSWORD }),
    fields: {
      username: { kind: 'string', max: 254, notBlank: true },
      email: { kind: 'string', max: 254, notBlank: true },
      password: { kind: 'string', max: 128, required: true, notBlank: true },
    },
    // simplejwt's TokenObtainPairSerializer: both the login field and the password are required.
    emptyBody: { username: [REQUIRED], password: [REQUIRED] },
  },
  {
    method: 'POST',
    label: '/api/auth/token/refresh/',
    path: () => '/api/auth/token/refresh/',
    valid: (ctx) => ({ refresh: ctx.member.refresh }),
    fields: { refresh: { kind: 'string', max: 2000, required: true, notBlank: true } },
  },
  {
    method: 'POST',
    label: '/api/auth/logout/',
    path: () => '/api/auth/logout/',
    valid: (ctx) => ({ refresh: ctx.member.refresh }),
    fields: { refresh: { kind: 'string', max: 2000, required: true, notBlank: true } },
  },
  {
    method: 'POST',
    label: '/api/auth/password-reset/',
    path: () => '/api/auth/password-reset/',
    valid: (ctx) => ({ email: ctx.member.user.email }),
    fields: { email: { kind: 'email', max: 254, required: true } },
  },
  {
    method: 'POST',
    label: '/api/auth/password-reset/confirm/',
    path: () => '/api/auth/password-reset/confirm/',
    valid: () => ({ token: 'k'.repeat(43), new_password: NEW_PASSWORD }),
    fields: {
      token: { kind: 'string', max: 200, required: true, notBlank: true },
      new_password: { kind: 'string', max: 128, required: true, notBlank: true },
    },
  },
  {
    method: 'PATCH',
    label: '/api/users/me/',
    path: () => '/api/users/me/',
    as: 'member',
    valid: () => ({ first_name: 'Changed' }),
    fields: {
      username: { kind: 'string', max: 150, notBlank: true },
      first_name: { kind: 'string', max: 150 },
      last_name: { kind: 'string', max: 150 },
      phone: { kind: 'string', max: 20, filler: '1' },
      // Not changeable here, but a value of the wrong type is still a 400 naming it.
      email: { kind: 'string' },
    },
  },
  {
    method: 'POST',
    label: '/api/users/me/password/',
    path: () => '/api/users/me/password/',
    as: 'member',
    valid: () => ({ current_password: PASSWORD, new_password: NEW_PASSWORD }),
    fields: {
      current_password: { kind: 'string', max: 128, required: true, notBlank: true },
      new_password: { kind: 'string', max: 128, required: true, notBlank: true },
    },
  },
  {
    method: 'PATCH',
    label: '/api/users/<id>/ (staff)',
    path: (ctx) => `/api/users/${ctx.target.id}/`,
    as: 'staff',
    valid: () => ({ first_name: 'Changed' }),
    fields: {
      username: { kind: 'string', max: 150, notBlank: true },
      first_name: { kind: 'string', max: 150 },
      last_name: { kind: 'string', max: 150 },
      phone: { kind: 'string', max: 20, filler: '1' },
      is_active: { kind: 'boolean' },
      is_verified: { kind: 'boolean' },
      is_staff: { kind: 'boolean' },
    },
  },
];

/** One request to refuse: a JSON value (`body`) or raw bytes (`raw`), and what the 400 must say. */
interface BadCase {
  title: string;
  body?: (ctx: Ctx) => unknown;
  raw?: string;
  expected: unknown;
}

const WRONG_FOR_STRING: Array<[string, unknown, string]> = [
  ['a number', 42, NOT_A_STRING],
  ['an array', ['text'], NOT_A_STRING],
  ['an object', { value: 'text' }, NOT_A_STRING],
  ['a boolean', true, NOT_A_STRING],
];
const WRONG_FOR_BOOLEAN: Array<[string, unknown, string]> = [
  ['a string', 'maybe', NOT_A_BOOLEAN],
  ['the number 2', 2, NOT_A_BOOLEAN],
  ['an array', [true], NOT_A_BOOLEAN],
  ['an object', { value: true }, NOT_A_BOOLEAN],
];
const MALFORMED_EMAILS = [
  'plainaddress',
  'missing-at.example.com',
  '@example.com',
  'user@',
  'user@@example.com',
  'user name@example.com',
  'user@exa mple.com',
];
const NON_OBJECT_BODIES: Array<[string, string]> = [
  ['an empty JSON array', '[]'],
  ['a JSON array holding a valid body', '[{"username": "someone", "password": "x"}]'],
  ['JSON null', 'null'],
  ['a JSON string', '"text"'],
  ['a JSON number', '42'],
];
const MALFORMED_JSON: Array<[string, string]> = [
  ['a truncated object', '{"username": '],
  ['single quotes', "{'username': 'x'}"],
  ['a trailing comma', '{"a": 1,}'],
  ['bare words', 'hello there'],
];

function badCases(endpoint: Endpoint): BadCase[] {
  const cases: BadCase[] = [];
  const required = Object.entries(endpoint.fields)
    .filter(([, spec]) => spec.required)
    .map(([name]) => name);
  const emptyExpected = endpoint.emptyBody ?? Object.fromEntries(required.map((name) => [name, [REQUIRED]]));
  if (Object.keys(emptyExpected).length > 0) {
    cases.push({ title: 'an empty object', body: () => ({}), expected: emptyExpected });
  }
  for (const name of required) {
    cases.push({
      title: `no ${name}`,
      body: (ctx) => {
        const body = endpoint.valid(ctx);
        delete body[name];
        return body;
      },
      expected: { [name]: [REQUIRED] },
    });
  }

  for (const [name, spec] of Object.entries(endpoint.fields)) {
    const spoil = (value: unknown) => (ctx: Ctx) => ({ ...endpoint.valid(ctx), [name]: value });
    const wrong = spec.kind === 'boolean' ? WRONG_FOR_BOOLEAN : WRONG_FOR_STRING;
    for (const [what, value, message] of wrong) {
      cases.push({ title: `${name} as ${what}`, body: spoil(value), expected: { [name]: [message] } });
    }
    // DRF says "This field may not be null."; any one message naming the field is accepted here.
    cases.push({ title: `${name} as null`, body: spoil(null), expected: { [name]: [expect.any(String)] } });

    if (spec.max !== undefined) {
      const value =
        spec.kind === 'email'
          ? `${'a'.repeat(10_000 - '@example.com'.length)}@example.com`
          : (spec.filler ?? 'a').repeat(10_000);
      cases.push({
        title: `${name} of 10,000 characters`,
        body: spoil(value),
        expected: { [name]: [tooLong(spec.max)] },
      });
    }
    if (spec.notBlank) {
      cases.push({ title: `${name} blank`, body: spoil(''), expected: { [name]: [BLANK] } });
    }
    if (spec.kind === 'email') {
      for (const email of MALFORMED_EMAILS) {
        cases.push({ title: `${name} "${email}"`, body: spoil(email), expected: { [name]: [BAD_EMAIL] } });
      }
    }
  }

  for (const [what, raw] of NON_OBJECT_BODIES) {
    cases.push({
      title: what,
      raw,
      expected: { non_field_errors: [expect.stringMatching(/^Invalid data\. Expected a dictionary/)] },
    });
  }
  for (const [what, raw] of MALFORMED_JSON) {
    cases.push({
      title: `malformed JSON (${what})`,
      raw,
      expected: { detail: expect.stringMatching(/^JSON parse error/) },
    });
  }
  cases.push({
    title: 'an empty body declared as JSON',
    raw: '',
    expected: { detail: expect.stringMatching(/^JSON parse error/) },
  });
  return cases;
}

describe('accounts: bad input is a 400 per field and writes nothing', () => {
  let ctx: Ctx;

  beforeAll(async () => {
    const t = await createTestApp();
    const member = await signedInUser(t.app, t.deps, { username: 'robust_member' });
    const staff = await signedInUser(t.app, t.deps, { username: 'robust_staff', isStaff: true });
    const target = await makeUser(t.deps, { username: 'robust_target' });
    ctx = { t, member, staff, target };
  });
  afterAll(() => ctx.t.close());

  const headersFor = (endpoint: Endpoint) => (endpoint.as === undefined ? {} : ctx[endpoint.as].headers);

  for (const endpoint of endpoints) {
    describe(`${endpoint.method} ${endpoint.label}`, () => {
      for (const c of badCases(endpoint)) {
        it(`refuses ${c.title}`, async () => {
          const before = await snapshot(ctx.t);
          const res = await ctx.t.app.inject({
            method: endpoint.method,
            url: endpoint.path(ctx),
            headers: { 'content-type': 'application/json', ...headersFor(endpoint) },
            payload: c.raw ?? JSON.stringify(c.body!(ctx)),
          });
          expect(res.statusCode, res.body).toBe(400);
          expect(res.json()).toEqual(c.expected);
          await expectUnchanged(ctx.t, before);
        });
      }
    });
  }

  describe('POST /api/register/ rules beyond the schema', () => {
    const refused: Array<[string, () => Record<string, unknown>, Record<string, string[]>]> = [
      [
        'a password under 8 characters',
        () => registration('reg_short', 'reg.short@example.com', { password: 'Sh0rt!x' }),
        { password: ['This password is too short. It must contain at least 8 characters.'] },
      ],
      [
        'an all-digit password',
        () => registration('reg_digits', 'reg.digits@example.com', { password: '83749261057' }),
        { password: ['This password is entirely numeric.'] },
      ],
      [
        'a common password',
        () => registration('reg_common', 'reg.common@example.com', { password: 'password123' }),
        { password: ['This password is too common.'] },
      ],
      [
        'a password too similar to the username',
        () => registration('margaret_t', 'mt@example.com', { password: 'margaret_t1' }),
        { password: ['The password is too similar to the username.'] },
      ],
      [
        'a password too similar to the e-mail address',
        () => registration('reg_mail', 'ferdinand.zeppelin@example.com', { password: 'Ferdinand-Zeppelin' }),
        { password: ['The password is too similar to the email address.'] },
      ],
      [
        'a username taken by another case',
        () => registration('ROBUST_MEMBER', 'someone.else@example.com'),
        { username: [USERNAME_TAKEN] },
      ],
      [
        'an e-mail taken by another case',
        () => registration('reg_other', 'ROBUST_MEMBER@EXAMPLE.com'),
        { email: [EMAIL_TAKEN] },
      ],
      [
        'an e-mail taken, differing only in the case of the domain',
        () => registration('reg_other2', 'robust_member@Example.COM'),
        { email: [EMAIL_TAKEN] },
      ],
      [
        'a username and an e-mail both taken',
        () => registration('Robust_Member', 'Robust_Member@example.com'),
        { username: [USERNAME_TAKEN], email: [EMAIL_TAKEN] },
      ],
      [
        'a username with a space and "!"',
        () => registration('bad name!', 'bad.name@example.com'),
        { username: [BAD_USERNAME] },
      ],
      [
        'a username with a slash',
        () => registration('bad/name', 'bad.slash@example.com'),
        { username: [BAD_USERNAME] },
      ],
      [
        'a phone number with letters',
        () => registration('reg_phone', 'reg.phone@example.com', { phone: '555-CALL-NOW' }),
        { phone: ['Enter a valid phone number.'] },
      ],
    ];
    for (const [what, body, expected] of refused) {
      it(`refuses ${what}`, async () => {
        const before = await snapshot(ctx.t);
        const res = await ctx.t.app.inject({ method: 'POST', url: '/api/register/', payload: body() });
        expect(res.statusCode, res.body).toBe(400);
        expect(res.json()).toEqual(expected);
        await expectUnchanged(ctx.t, before);
      });
    }

    it('ignores fields a client may not set, and accepts the valid body the cases above spoil', async () => {
      const res = await ctx.t.app.inject({
        method: 'POST',
        url: '/api/register/',
        payload: { ...endpoints[0]!.valid(ctx), is_staff: true, is_verified: true, is_superuser: true },
      });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json().user).toMatchObject({
        username: 'robust_newcomer',
        phone: '+1 555 0100',
        is_staff: false,
        is_verified: false,
      });
      const row = await userById(ctx.t, res.json().user.id as number);
      expect(row).toMatchObject({ isStaff: false, isVerified: false, isSuperuser: false });
    });
  });

  describe('unknown users and routes', () => {
    for (const id of ['999999', 'abc', '-1', '0', '1.5', '99999999999999999999']) {
      it(`answers 404 for /api/users/${id}/ to staff, on GET and PATCH`, async () => {
        const before = await snapshot(ctx.t);
        const got = await ctx.t.app.inject({
          method: 'GET',
          url: `/api/users/${id}/`,
          headers: ctx.staff.headers,
        });
        expect(got.statusCode, got.body).toBe(404);
        expect(got.json()).toEqual(NOT_FOUND);
        const patched = await ctx.t.app.inject({
          method: 'PATCH',
          url: `/api/users/${id}/`,
          headers: ctx.staff.headers,
          payload: { first_name: 'Ghost' },
        });
        expect(patched.statusCode, patched.body).toBe(404);
        expect(patched.json()).toEqual(NOT_FOUND);
        await expectUnchanged(ctx.t, before);
      });
    }

    for (const method of ['GET', 'POST', 'PATCH'] as const) {
      it(`answers 404 for ${method} /api/users/me/foo`, async () => {
        const before = await snapshot(ctx.t);
        const res = await ctx.t.app.inject({
          method,
          url: '/api/users/me/foo',
          headers: ctx.member.headers,
          ...(method === 'GET' ? {} : { payload: { first_name: 'Foo' } }),
        });
        expect(res.statusCode, res.body).toBe(404);
        expect(res.json()).toEqual(NOT_FOUND);
        await expectUnchanged(ctx.t, before);
      });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// B. Concurrency
// ---------------------------------------------------------------------------------------------

/** `text` with its first five letters upper-cased by the bits of `n` (0..31): one name, many spellings. */
function caseVariant(text: string, n: number): string {
  let letter = 0;
  return [...text]
    .map((c) => (/[a-z]/.test(c) && letter++ < 5 && (n >> (letter - 1)) & 1 ? c.toUpperCase() : c))
    .join('');
}

// PGlite runs one transaction at a time, so these requests can only race on PostgreSQL.
describe.skipIf(!process.env.DATABASE_URL)(
  'accounts: concurrent requests (PostgreSQL: PGlite runs one transaction at a time)',
  () => {
    let t: TestApp;
    let base: string;

    beforeAll(async () => {
      t = await createTestApp();
      base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    });
    afterAll(() => t.close());

    const post = async (path: string, body: unknown) => {
      const res = await fetch(base + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : null };
    };

    const verificationJobCount = async () =>
      (await t.deps.db.select().from(jobs).where(eq(jobs.name, SEND_VERIFICATION_EMAIL))).length;

    it('20 simultaneous registrations with one e-mail (over HTTP, in 20 spellings): exactly one 201', async () => {
      const jobsBefore = await verificationJobCount();
      const emails = Array.from(
        { length: 20 },
        (_, i) => caseVariant('race.mail', i) + '@' + caseVariant('example.com', (i * 7) % 32),
      );
      expect(new Set(emails).size).toBe(20);
      const results = await Promise.all(
        emails.map((email, i) => post('/api/register/', registration(`racer_${i}`, email))),
      );

      const created = results.filter((r) => r.status === 201);
      expect(created, JSON.stringify(results)).toHaveLength(1);
      const refused = results.filter((r) => r.status !== 201);
      expect(refused).toHaveLength(19);
      for (const r of refused) expect(r).toEqual({ status: 400, body: { email: [EMAIL_TAKEN] } });

      const rows = await t.deps.db
        .select()
        .from(users)
        .where(sql`lower(${users.email}) = 'race.mail@example.com'`);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.username).toBe(created[0]!.body!.user.username);
      expect(
        await t.deps.db
          .select()
          .from(users)
          .where(sql`${users.username} like 'racer\\_%'`),
      ).toHaveLength(1);
      // Only the winner's transaction committed, and with it its one verification e-mail job.
      expect(await verificationJobCount()).toBe(jobsBefore + 1);
      expect(await verificationJob(t, rows[0]!.id)).toBeDefined();
    });

    it('20 simultaneous registrations with one username (in 20 spellings): exactly one 201', async () => {
      const jobsBefore = await verificationJobCount();
      const names = Array.from({ length: 20 }, (_, i) => caseVariant('same.nick', i));
      expect(new Set(names).size).toBe(20);
      const results = await Promise.all(
        names.map((username, i) =>
          t.app.inject({
            method: 'POST',
            url: '/api/register/',
            payload: registration(username, `same.nick.${i}@example.com`),
          }),
        ),
      );
      const statuses = results.map((r) => r.statusCode);
      expect(
        statuses.filter((s) => s === 201),
        JSON.stringify(statuses),
      ).toHaveLength(1);
      for (const r of results.filter((x) => x.statusCode !== 201)) {
        expect(r.statusCode, r.body).toBe(400);
        expect(r.json()).toEqual({ username: [USERNAME_TAKEN] });
      }
      const rows = await t.deps.db
        .select()
        .from(users)
        .where(sql`lower(${users.username}) = 'same.nick'`);
      expect(rows).toHaveLength(1);
      expect(await verificationJobCount()).toBe(jobsBefore + 1);
    });

    // The presented token's row is locked (`FOR UPDATE`): the first to take the lock uses it up, and
    // every other finds it used (a replay) and revokes the family, the winner's new token included.
    it('one refresh token presented 10 times at once (over HTTP): exactly one success, then the family is dead', async () => {
      const user = await makeUser(t.deps, { username: 'refresh_racer' });
      const raced = await tokensFor(t.app, user.username);
      const otherSession = await tokensFor(t.app, user.username);
      const [racedRow] = await t.deps.db
        .select()
        .from(refreshTokens)
        .where(eq(refreshTokens.tokenHash, tokenHash(raced.refresh)));
      const familyId = racedRow!.familyId;

      const results = await Promise.all(
        Array.from({ length: 10 }, () => post('/api/auth/token/refresh/', { refresh: raced.refresh })),
      );
      const won = results.filter((r) => r.status === 200);
      expect(won, JSON.stringify(results)).toHaveLength(1);
      expect(won[0]!.body).toEqual({ access: expect.any(String), refresh: expect.any(String) });
      const refused = results.filter((x) => x.status !== 200);
      expect(refused).toHaveLength(9);
      for (const r of refused) expect(r).toEqual({ status: 401, body: TOKEN_NOT_VALID });

      // Every token of the family is refused now: the raced one and whatever the winner got.
      const family = await t.deps.db.select().from(refreshTokens).where(eq(refreshTokens.familyId, familyId));
      expect(family).toHaveLength(2);
      for (const row of family) expect(row.revokedAt).toBeInstanceOf(Date);
      expect(await post('/api/auth/token/refresh/', { refresh: raced.refresh })).toEqual({
        status: 401,
        body: TOKEN_NOT_VALID,
      });
      expect(await post('/api/auth/token/refresh/', { refresh: won[0]!.body!.refresh })).toEqual({
        status: 401,
        body: TOKEN_NOT_VALID,
      });
      // Another sign-in of the same user is another family, untouched by the race.
      const other = await post('/api/auth/token/refresh/', { refresh: otherSession.refresh });
      expect(other.status).toBe(200);
    });

    it('one refresh token presented 10 times at once (in-process): exactly one success', async () => {
      const user = await makeUser(t.deps, { username: 'refresh_racer_2' });
      const raced = await tokensFor(t.app, user.username);
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          t.app.inject({
            method: 'POST',
            url: '/api/auth/token/refresh/',
            payload: { refresh: raced.refresh },
          }),
        ),
      );
      const statuses = results.map((r) => r.statusCode);
      expect(
        statuses.filter((s) => s === 200),
        JSON.stringify(statuses),
      ).toHaveLength(1);
      for (const r of results.filter((x) => x.statusCode !== 200)) {
        expect(r.statusCode).toBe(401);
        expect(r.json()).toEqual(TOKEN_NOT_VALID);
      }
      // The raced token and the one the winner got, both revoked by the replays.
      const rows = await t.deps.db.select().from(refreshTokens).where(eq(refreshTokens.userId, user.id));
      expect(rows).toHaveLength(2);
      for (const row of rows) expect(row.revokedAt).toBeInstanceOf(Date);
    });
  },
);

// ---------------------------------------------------------------------------------------------
// C. SMTP down
// ---------------------------------------------------------------------------------------------

describe('accounts: registration while SMTP is down', () => {
  it('answers 201; the mail job retries with back-off, fails for good, and the counters show it', async () => {
    const port = await freePort(); // nothing listens there
    const t = await createTestApp({
      env: { EMAIL_URL: `smtp://127.0.0.1:${port}`, JOB_BACKOFF: '50ms', JOB_MAX_RETRIES: '2' },
    });
    try {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/register/',
        payload: registration('smtp_down', 'smtp.down@example.com'),
      });
      expect(res.statusCode, res.body).toBe(201);
      const id = res.json().user.id as number;

      await waitFor(
        async () => (await verificationJob(t, id))?.status === 'failed',
        15_000,
        'the verification job to fail for good',
      );
      const job = (await verificationJob(t, id))!;
      expect(job).toMatchObject({ status: 'failed', attempts: 3, maxAttempts: 3 });
      expect(job.lastError).toMatch(/ECONNREFUSED/);
      expect(job.finishedAt).toBeInstanceOf(Date);

      const user = await userById(t, id);
      expect(user.verificationEmailAttempts).toBe(3);
      expect(user.verificationEmailLastAttempt).toBeInstanceOf(Date);
      expect(user.verificationEmailLastSuccess).toBeNull();

      // No attempt after the last retry: more rounds of the relay, and every job settled, change
      // nothing (a failed job is never handed over again).
      for (let round = 0; round < 3; round++) {
        t.deps.jobs.kick();
        await t.deps.jobs.idle();
      }
      await settleJobs(t.deps);
      expect((await userById(t, id)).verificationEmailAttempts).toBe(3);
      expect((await verificationJob(t, id))!.attempts).toBe(3);

      // Staff see the delivery record through the API.
      const staff = await makeUser(t.deps, { username: 'smtp_staff', isStaff: true });
      const { access } = await tokensFor(t.app, staff.username);
      const seen = await t.app.inject({ method: 'GET', url: `/api/users/${id}/`, headers: bearer(access) });
      expect(seen.statusCode).toBe(200);
      expect(seen.json()).toMatchObject({
        verification_email_attempts: 3,
        verification_email_last_attempt: expect.any(String),
        verification_email_last_success: null,
      });
    } finally {
      await t.close();
    }
  });

  it('answers 201 at once when the SMTP server accepts connections but never speaks', async () => {
    const held: Socket[] = [];
    const silent = createServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const t = await createTestApp({
      env: { EMAIL_URL: `smtp://127.0.0.1:${port}`, JOB_BACKOFF: '50ms', JOB_MAX_RETRIES: '0' },
    });
    try {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/register/',
        payload: registration('smtp_silent', 'smtp.silent@example.com'),
      });
      expect(res.statusCode, res.body).toBe(201);
      // The mailer waits 10 s for a greeting that never comes; the request did not wait for it: the
      // answer is here while the job is still connected to the silent server, running.
      const id = res.json().user.id as number;
      await waitFor(() => held.length > 0, 5000, 'the job to connect to the silent server');
      expect((await verificationJob(t, id))?.status).toBe('running');

      for (const socket of held) socket.destroy();
      await waitFor(
        async () => (await verificationJob(t, id))?.status === 'failed',
        10_000,
        'the job to fail',
      );
      const user = await userById(t, id);
      expect(user.verificationEmailAttempts).toBe(1);
      expect(user.verificationEmailLastSuccess).toBeNull();
      expect((await verificationJob(t, id))!.lastError).toBeTruthy();
    } finally {
      for (const socket of held) socket.destroy();
      await t.close();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('delivers on a later attempt once the SMTP server comes up, and records the success', async () => {
    const port = await freePort();
    const t = await createTestApp({
      env: { EMAIL_URL: `smtp://127.0.0.1:${port}`, JOB_BACKOFF: '300ms', JOB_MAX_RETRIES: '5' },
    });
    let sink: SmtpSink | undefined;
    try {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/register/',
        payload: registration('smtp_later', 'SMTP.Later@Example.com'),
      });
      expect(res.statusCode, res.body).toBe(201);
      const id = res.json().user.id as number;

      await waitFor(
        async () => {
          const job = await verificationJob(t, id);
          // Waiting for a retry: `pending` in this process, `queued` with a queue worker.
          return (
            ['pending', 'queued'].includes(job?.status ?? '') && job!.attempts >= 1 && job!.lastError !== null
          );
        },
        10_000,
        'a first failed attempt',
      );
      const afterFailure = await userById(t, id);
      expect(afterFailure.verificationEmailAttempts).toBeGreaterThanOrEqual(1);
      expect(afterFailure.verificationEmailLastSuccess).toBeNull();
      expect((await verificationJob(t, id))!.lastError).toMatch(/ECONNREFUSED/);

      sink = await startSmtpSink(port);
      await waitFor(() => sink!.messages.length >= 1, 15_000, 'the verification e-mail at the sink');
      const [mail] = sink.messages;
      expect(recipientsOf(mail!)).toEqual(['smtp.later@example.com']);

      await waitFor(
        async () => (await verificationJob(t, id))?.status === 'succeeded',
        5000,
        'the job to succeed',
      );
      const job = (await verificationJob(t, id))!;
      expect(job.attempts).toBeGreaterThanOrEqual(2);
      expect(job.lastError).toBeNull();
      const user = await userById(t, id);
      expect(user.verificationEmailAttempts).toBe(job.attempts);
      expect(user.verificationEmailLastSuccess).toBeInstanceOf(Date);
      expect(user.verificationEmailLastSuccess!.getTime()).toBeGreaterThanOrEqual(
        user.verificationEmailLastAttempt!.getTime(),
      );
      expect(sink.messages).toHaveLength(1);

      // The link that finally went out works.
      const link = linkIn(mail!, `${t.config.siteUrl}/api/verify-email/`);
      const verified = await t.app.inject({ method: 'GET', url: new URL(link).pathname });
      expect(verified.statusCode).toBe(200);
      expect((await userById(t, id)).isVerified).toBe(true);
    } finally {
      await t.close();
      await sink?.close();
    }
  });
});
