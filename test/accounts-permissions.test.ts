import { and, asc, desc, eq, isNull, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordResetTokens, refreshTokens, users, type User } from '../src/modules/accounts/tables.js';
import { randomToken, TokenSigner, tokenHash } from '../src/modules/accounts/tokens.js';
import { bearer, makeUser, PASSWORD, signedInUser, tokensFor } from './helpers/accounts.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { settleJobs } from './helpers/jobs.js';

/**
 * SPEC §2 and §3: who may call which accounts route, what each caller gets back, and that a
 * refused request leaves the database as it was. Then the staff-only users list: search,
 * filters, ordering and pagination.
 */

const NO_CREDENTIALS = { detail: 'Authentication credentials were not provided.' };
const FORBIDDEN = { detail: 'You do not have permission to perform this action.' };
const NOT_FOUND = { detail: 'Not found.' };
const INVALID_PAGE = { detail: 'Invalid page.' };
const NO_ACCOUNT = { detail: 'No active account found with the given credentials' };
const REFRESH_INVALID = { detail: 'Token is invalid or expired', code: 'token_not_valid' };
const NOT_VERIFIED = { detail: 'Email not verified. Please verify your email before logging in.' };
const RESET_INVALID = { token: ['Invalid or expired token.'] };
const REGISTERED = 'User created successfully. Please check your email for verification.';
const NEW_PASSWORD = 'Maple-Quartz-Lantern-73';

const SELF_FIELDS = [
  'created_at',
  'email',
  'first_name',
  'id',
  'is_active',
  'is_staff',
  'is_verified',
  'last_name',
  'phone',
  'updated_at',
  'username',
];
const STAFF_FIELDS = [
  ...SELF_FIELDS,
  'is_superuser',
  'verification_email_attempts',
  'verification_email_last_attempt',
  'verification_email_last_success',
].sort();

type Body = Record<string, any>;
interface Reply {
  status: number;
  body: Body | null;
  headers: Record<string, unknown>;
}

type Actor = 'anonymous' | 'customer' | 'other' | 'staff';

interface SignedIn {
  user: User;
  access: string;
  refresh: string;
  headers: Record<string, string>;
}

/** Changes one character in the middle of a JWT segment (never the last one: its low bits are padding). */
function tamper(token: string, segment: 1 | 2): string {
  const parts = token.split('.');
  const part = parts[segment]!;
  const i = Math.floor(part.length / 2);
  parts[segment] = part.slice(0, i) + (part[i] === 'A' ? 'B' : 'A') + part.slice(i + 1);
  return parts.join('.');
}

describe('accounts: permissions for every route', () => {
  let t: TestApp;
  /** The application's clock runs this far ahead of the real one. */
  let shiftMs = 0;
  const now = () => new Date(Date.now() + shiftMs);
  let customer: SignedIn;
  let other: SignedIn;
  let staff: SignedIn;
  let superuser: SignedIn;

  beforeAll(async () => {
    t = await createTestApp({ clock: now });
    customer = await signedInUser(t.app, t.deps, {
      username: 'alice',
      email: 'alice@example.com',
      firstName: 'Alice',
      lastName: 'Liddell',
    });
    other = await signedInUser(t.app, t.deps, { username: 'bob', email: 'bob@example.com' });
    staff = await signedInUser(t.app, t.deps, { username: 'staffer', isStaff: true });
    superuser = await signedInUser(t.app, t.deps, { username: 'root', isStaff: true, isSuperuser: true });
  });
  afterAll(async () => {
    await t?.close();
  });

  const headersOf = (actor: Actor): Record<string, string> =>
    actor === 'anonymous' ? {} : { customer, other, staff }[actor].headers;

  async function call(
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    url: string,
    options: { headers?: Record<string, string>; payload?: unknown } = {},
  ): Promise<Reply> {
    const res = await t.app.inject({
      method,
      url,
      headers: options.headers ?? {},
      ...(options.payload === undefined ? {} : { payload: options.payload as Body }),
    });
    return {
      status: res.statusCode,
      body: res.body ? res.json<Body>() : null,
      headers: res.headers,
    };
  }

  /** Every row the accounts module owns, once background jobs (verification mail) are done. */
  async function dbState() {
    await settleJobs(t.deps);
    return {
      users: await t.deps.db.select().from(users).orderBy(asc(users.id)),
      refreshTokens: await t.deps.db.select().from(refreshTokens).orderBy(asc(refreshTokens.id)),
      resetTokens: await t.deps.db.select().from(passwordResetTokens).orderBy(asc(passwordResetTokens.id)),
    };
  }

  /** Runs a request that must be refused and checks the database did not change. */
  async function refused(
    method: Parameters<typeof call>[0],
    url: string,
    options: Parameters<typeof call>[2] = {},
  ): Promise<Reply> {
    const before = await dbState();
    const reply = await call(method, url, options);
    expect(await dbState()).toEqual(before);
    return reply;
  }

  async function userRow(id: number): Promise<User> {
    const [row] = await t.deps.db.select().from(users).where(eq(users.id, id));
    return row!;
  }

  async function liveRefreshTokens(userId: number) {
    return t.deps.db
      .select()
      .from(refreshTokens)
      .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)));
  }

  const signer = () => new TokenSigner(t.config.secretKey);
  const verifyLink = async (user: User, issuedAt = new Date()) =>
    (await signer().sign('verify_email', { userId: user.id, email: user.email }, issuedAt, 24 * 3600)).token;

  describe('public endpoints answer anonymous, customer and staff callers alike', () => {
    it.each(['anonymous', 'customer', 'staff'] as const)(
      'as %s: register, resend, verify, sign in, refresh, sign out, reset',
      async (actor) => {
        const headers = headersOf(actor);
        const username = `reg_${actor}`;
        const email = `reg.${actor}@example.com`;
        const password = 'Tulip-Orbit-Canvas-42';

        const registered = await call('POST', '/api/register/', {
          headers,
          payload: {
            username,
            email,
            password,
            first_name: 'Reggie',
            last_name: 'Ister',
            is_staff: true,
            is_verified: true,
            is_superuser: true,
          },
        });
        expect(registered.status).toBe(201);
        expect(registered.body).toEqual({
          message: REGISTERED,
          user: expect.objectContaining({
            username,
            email,
            is_verified: false,
            is_staff: false,
            is_active: true,
          }),
        });
        expect(Object.keys(registered.body!.user as Body).sort()).toEqual(SELF_FIELDS);
        const [row] = await t.deps.db.select().from(users).where(eq(users.username, username));
        expect(row).toMatchObject({ isVerified: false, isStaff: false, isSuperuser: false, isActive: true });

        // Unverified: the right password gets the 403, a wrong one the 401.
        expect(
          await call('POST', '/api/auth/token/', { headers, payload: { username, password } }),
        ).toMatchObject({ status: 403, body: NOT_VERIFIED });

        const resendMessage = {
          detail: 'If an account with this e-mail is awaiting verification, a new link has been sent.',
        };
        for (const address of [email, `nobody.${actor}@example.com`]) {
          expect(
            await call('POST', '/api/resend-verification/', { headers, payload: { email: address } }),
          ).toMatchObject({ status: 200, body: resendMessage });
        }

        const verified = await call('GET', `/api/verify-email/${await verifyLink(row!)}/`, { headers });
        expect(verified).toMatchObject({ status: 200, body: { detail: 'Email verified successfully.' } });
        expect((await userRow(row!.id)).isVerified).toBe(true);

        const signIn = await call('POST', '/api/auth/token/', { headers, payload: { email, password } });
        expect(signIn.status).toBe(200);
        expect(signIn.body).toEqual({ access: expect.any(String), refresh: expect.any(String) });

        const rotated = await call('POST', '/api/auth/token/refresh/', {
          headers,
          payload: { refresh: signIn.body!.refresh },
        });
        expect(rotated.status).toBe(200);
        expect(rotated.body).toEqual({ access: expect.any(String), refresh: expect.any(String) });
        expect(rotated.body!.refresh).not.toBe(signIn.body!.refresh);

        const out = await call('POST', '/api/auth/logout/', {
          headers,
          payload: { refresh: rotated.body!.refresh },
        });
        expect(out).toMatchObject({ status: 204, body: null });
        expect(await liveRefreshTokens(row!.id)).toEqual([]);

        const resetMessage = {
          detail: 'If an active account with this e-mail exists, a password reset e-mail has been sent.',
        };
        for (const address of [email, `nobody.${actor}@example.com`]) {
          expect(
            await call('POST', '/api/auth/password-reset/', { headers, payload: { email: address } }),
          ).toMatchObject({ status: 200, body: resetMessage });
        }

        const bogus = await refused('POST', '/api/auth/password-reset/confirm/', {
          headers,
          payload: { token: 'not-a-real-token', new_password: NEW_PASSWORD },
        });
        expect(bogus).toMatchObject({ status: 400, body: RESET_INVALID });
      },
    );
  });

  describe('public endpoints refuse bad input and change nothing', () => {
    it('register: a taken username or e-mail (any case) and a weak password are 400 on that field', async () => {
      const base = { password: 'Tulip-Orbit-Canvas-42', first_name: 'A', last_name: 'B' };
      const takenName = await refused('POST', '/api/register/', {
        payload: { ...base, username: 'ALICE', email: 'fresh1@example.com' },
      });
      expect(takenName.status).toBe(400);
      expect(takenName.body).toEqual({ username: [expect.any(String)] });

      const takenEmail = await refused('POST', '/api/register/', {
        payload: { ...base, username: 'fresh2', email: 'Alice@EXAMPLE.com' },
      });
      expect(takenEmail.status).toBe(400);
      expect(takenEmail.body).toEqual({ email: [expect.any(String)] });

      const weak = await refused('POST', '/api/register/', {
        payload: { ...base, username: 'fresh3', email: 'fresh3@example.com', password: '12345678' },
      });
      expect(weak.status).toBe(400);
      expect(Object.keys(weak.body!)).toEqual(['password']);
      expect(weak.body!.password).toContain('This password is entirely numeric.');

      const missing = await refused('POST', '/api/register/', { payload: { username: 'fresh4' } });
      expect(missing.status).toBe(400);
      expect(missing.body).toHaveProperty('email');
    });

    it('register: a password that only shares a short piece like "com" with the address is accepted', async () => {
      // Django's UserAttributeSimilarityValidator compares the whole password with the value and
      // its parts (SequenceMatcher ratio >= 0.7); it does not refuse a password for containing "com".
      const res = await call('POST', '/api/register/', {
        payload: {
          username: 'sally_s',
          email: 'sailor@example.com',
          password: 'Velvet-Harbor-Compass-28',
          first_name: 'Sally',
          last_name: 'Sailor',
        },
      });
      expect(res).toMatchObject({
        status: 201,
        body: { message: REGISTERED, user: { username: 'sally_s' } },
      });
    });

    it('verify-email: tampered, expired and unknown-user links are 400', async () => {
      const user = await makeUser(t.deps, { username: 'unverified1', isVerified: false });
      const good = await verifyLink(user);

      const tampered = await refused('GET', `/api/verify-email/${tamper(good, 2)}/`);
      expect(tampered).toMatchObject({ status: 400, body: { detail: 'Invalid verification link.' } });

      const expired = await verifyLink(user, new Date(Date.now() - 25 * 3600_000));
      expect(await refused('GET', `/api/verify-email/${expired}/`)).toMatchObject({
        status: 400,
        body: { detail: 'Verification link expired.' },
      });

      const ghost = (
        await signer().sign('verify_email', { userId: 999_999, email: 'ghost@example.com' }, new Date(), 3600)
      ).token;
      expect(await refused('GET', `/api/verify-email/${ghost}/`)).toMatchObject({
        status: 400,
        body: { detail: 'Invalid verification link.' },
      });
      expect((await userRow(user.id)).isVerified).toBe(false);

      // The real link still works, and a second click answers the same.
      for (let click = 0; click < 2; click++) {
        expect(await call('GET', `/api/verify-email/${good}/`)).toMatchObject({
          status: 200,
          body: { detail: 'Email verified successfully.' },
        });
      }
      expect((await userRow(user.id)).isVerified).toBe(true);
    });

    it('resend-verification and password-reset without an e-mail are 400 naming `email`', async () => {
      for (const url of ['/api/resend-verification/', '/api/auth/password-reset/']) {
        const res = await refused('POST', url, { payload: {} });
        expect(res.status).toBe(400);
        expect(res.body).toEqual({ email: [expect.any(String)] });
      }
    });

    it('sign-in: wrong password, unknown user, inactive and unverified accounts', async () => {
      const inactive = await makeUser(t.deps, { username: 'gone1', isActive: false });
      const unverified = await makeUser(t.deps, { username: 'unverified2', isVerified: false });

      const cases: Array<[Body, number, Body]> = [
        [{ username: 'alice', password: 'Wrong-Password-1' }, 401, NO_ACCOUNT],
        [{ username: 'nobody-here', password: PASSWORD }, 401, NO_ACCOUNT],
        [{ username: inactive.username, password: PASSWORD }, 401, NO_ACCOUNT],
        [{ username: unverified.username, password: 'Wrong-Password-1' }, 401, NO_ACCOUNT],
        [{ username: unverified.username, password: PASSWORD }, 403, NOT_VERIFIED],
      ];
      for (const [payload, status, body] of cases) {
        expect(await refused('POST', '/api/auth/token/', { payload })).toMatchObject({ status, body });
      }
      const noLogin = await refused('POST', '/api/auth/token/', { payload: { password: PASSWORD } });
      expect(noLogin.status).toBe(400);
      expect(noLogin.body).toHaveProperty('username');
    });

    it('sign-in with `email`: someone whose username is that address does not take the sign-in', async () => {
      const vera = await makeUser(t.deps, { username: 'vera', email: 'vera@example.com' });
      // Usernames may contain @ and dots, so anyone can pick another user's e-mail address as username.
      await makeUser(t.deps, {
        username: 'vera@example.com',
        email: 'squatter@example.com',
        password: 'Squatter-Secret-Pass-5',
      });
      const byEmail = await call('POST', '/api/auth/token/', {
        payload: { email: 'vera@example.com', password: PASSWORD },
      });
      expect(byEmail.status).toBe(200);
      const me = await call('GET', '/api/users/me/', { headers: bearer(byEmail.body!.access as string) });
      expect(me).toMatchObject({ status: 200, body: { id: vera.id, username: 'vera' } });
    });

    it('sign-in with `username` set to an address that is also a username: the password decides whose', async () => {
      const wendy = await makeUser(t.deps, { username: 'wendy', email: 'wendy@example.com' });
      const squatter = await makeUser(t.deps, {
        username: 'wendy@example.com',
        email: 'squatter2@example.com',
        password: 'Squatter-Secret-Pass-5',
      });
      const whoAmI = async (password: string) => {
        const signIn = await call('POST', '/api/auth/token/', {
          payload: { username: 'wendy@example.com', password },
        });
        expect(signIn.status, `sign-in with ${password}`).toBe(200);
        const me = await call('GET', '/api/users/me/', { headers: bearer(signIn.body!.access as string) });
        return me.body!.id as number;
      };
      expect(await whoAmI('Squatter-Secret-Pass-5')).toBe(squatter.id);
      // SPEC §3: `username` takes a username or an e-mail address; Wendy's address with her password is her.
      expect(await whoAmI(PASSWORD)).toBe(wendy.id);
    });

    it('refresh and logout: garbage, an access token and a tampered refresh token are 401', async () => {
      const { access, refresh } = await tokensFor(t.app, 'bob');
      for (const url of ['/api/auth/token/refresh/', '/api/auth/logout/']) {
        for (const token of ['garbage', access, tamper(refresh, 1), tamper(refresh, 2)]) {
          expect(await refused('POST', url, { payload: { refresh: token } })).toMatchObject({
            status: 401,
            body: REFRESH_INVALID,
          });
        }
        const missing = await refused('POST', url, { payload: {} });
        expect(missing.status).toBe(400);
        expect(missing.body).toEqual({ refresh: [expect.any(String)] });
      }
    });

    it('password-reset confirm: a valid token sets the password once and ends every session', async () => {
      const user = await makeUser(t.deps, { username: 'forgetful', email: 'forgetful@example.com' });
      const session = await tokensFor(t.app, user.username);
      const token = randomToken();
      await t.deps.db
        .insert(passwordResetTokens)
        .values({ userId: user.id, tokenHash: tokenHash(token), expiresAt: new Date(Date.now() + 3600_000) });
      const expiredToken = randomToken();
      await t.deps.db.insert(passwordResetTokens).values({
        userId: user.id,
        tokenHash: tokenHash(expiredToken),
        expiresAt: new Date(Date.now() - 1000),
      });

      expect(
        await refused('POST', '/api/auth/password-reset/confirm/', {
          payload: { token: expiredToken, new_password: NEW_PASSWORD },
        }),
      ).toMatchObject({ status: 400, body: RESET_INVALID });

      const weak = await refused('POST', '/api/auth/password-reset/confirm/', {
        payload: { token, new_password: 'password' },
      });
      expect(weak.status).toBe(400);
      expect(weak.body).toEqual({ new_password: expect.arrayContaining(['This password is too common.']) });

      const done = await call('POST', '/api/auth/password-reset/confirm/', {
        payload: { token, new_password: NEW_PASSWORD },
      });
      expect(done).toMatchObject({ status: 200, body: { detail: expect.any(String) } });
      expect(await liveRefreshTokens(user.id)).toEqual([]);
      expect(
        await call('POST', '/api/auth/token/refresh/', { payload: { refresh: session.refresh } }),
      ).toMatchObject({ status: 401, body: REFRESH_INVALID });
      expect(
        await call('POST', '/api/auth/token/', { payload: { username: 'forgetful', password: PASSWORD } }),
      ).toMatchObject({ status: 401, body: NO_ACCOUNT });
      expect(
        (
          await call('POST', '/api/auth/token/', {
            payload: { username: 'forgetful', password: NEW_PASSWORD },
          })
        ).status,
      ).toBe(200);

      expect(
        await refused('POST', '/api/auth/password-reset/confirm/', {
          payload: { token, new_password: 'Another-Fresh-Secret-58' },
        }),
      ).toMatchObject({ status: 400, body: RESET_INVALID });
    });
  });

  describe('/api/users/me/ endpoints need a signed-in caller', () => {
    const meRequests: Array<[Parameters<typeof call>[0], string, Body | undefined]> = [
      ['GET', '/api/users/me/', undefined],
      ['PATCH', '/api/users/me/', { first_name: 'Mallory' }],
      ['POST', '/api/users/me/password/', { current_password: PASSWORD, new_password: NEW_PASSWORD }],
      ['GET', '/api/users/me', undefined],
    ];

    it.each(meRequests)('anonymous %s %s → 401, nothing changes', async (method, url, payload) => {
      const res = await refused(method, url, { payload });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(NO_CREDENTIALS);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    });

    it.each(meRequests)(
      '`Authorization: Basic xyz` is anonymous: %s %s → 401 "not provided"',
      async (method, url, payload) => {
        const res = await refused(method, url, { payload, headers: { authorization: 'Basic xyz' } });
        expect(res).toMatchObject({ status: 401, body: NO_CREDENTIALS });
      },
    );

    // DRF checks authentication and permissions before it reads the body: an anonymous caller
    // learns that they must sign in, not what the body should look like.
    it.each([
      ['PATCH', '/api/users/me/', { phone: 'not a phone!' }],
      ['POST', '/api/users/me/password/', {}],
    ] as const)('anonymous %s %s with an invalid body is still 401', async (method, url, payload) => {
      const res = await refused(method, url, { payload });
      expect(res).toMatchObject({ status: 401, body: NO_CREDENTIALS });
    });

    it.each(['customer', 'other', 'staff'] as const)(
      'GET /api/users/me/ as %s → 200, their own profile and no staff fields',
      async (actor) => {
        const me = { customer, other, staff }[actor].user;
        const res = await call('GET', '/api/users/me/', { headers: headersOf(actor) });
        expect(res.status).toBe(200);
        expect(Object.keys(res.body!).sort()).toEqual(SELF_FIELDS);
        const row = await userRow(me.id);
        expect(res.body).toEqual({
          id: row.id,
          username: row.username,
          email: row.email,
          first_name: row.firstName,
          last_name: row.lastName,
          phone: row.phone,
          is_verified: row.isVerified,
          is_active: row.isActive,
          is_staff: row.isStaff,
          created_at: row.createdAt.toISOString(),
          updated_at: row.updatedAt.toISOString(),
        });
      },
    );

    it('Basic credentials do not stop public endpoints', async () => {
      const res = await call('POST', '/api/auth/password-reset/', {
        headers: { authorization: 'Basic xyz' },
        payload: { email: 'alice@example.com' },
      });
      expect(res.status).toBe(200);
    });
  });

  describe('PATCH /api/users/me/', () => {
    it('updates first_name, last_name, phone and username', async () => {
      const me = await signedInUser(t.app, t.deps, { username: 'editor' });
      const res = await call('PATCH', '/api/users/me/', {
        headers: me.headers,
        payload: { first_name: 'Edith', last_name: 'Tor', phone: '+44 (0) 20-7946.0000', username: 'edith' },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: me.user.id,
        username: 'edith',
        first_name: 'Edith',
        last_name: 'Tor',
        phone: '+44 (0) 20-7946.0000',
        email: me.user.email,
      });
      expect(Object.keys(res.body!).sort()).toEqual(SELF_FIELDS);
      expect(await userRow(me.user.id)).toMatchObject({
        username: 'edith',
        firstName: 'Edith',
        lastName: 'Tor',
        phone: '+44 (0) 20-7946.0000',
        email: me.user.email,
      });
      // The new username signs in.
      expect((await tokensFor(t.app, 'edith')).access).toEqual(expect.any(String));
    });

    it('ignores is_staff, is_superuser, is_verified and is_active in the body', async () => {
      const me = await signedInUser(t.app, t.deps, { username: 'climber' });
      const res = await call('PATCH', '/api/users/me/', {
        headers: me.headers,
        payload: {
          first_name: 'Clim',
          is_staff: true,
          is_superuser: true,
          is_verified: false,
          is_active: false,
        },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        first_name: 'Clim',
        is_staff: false,
        is_verified: true,
        is_active: true,
      });
      expect(await userRow(me.user.id)).toMatchObject({
        firstName: 'Clim',
        isStaff: false,
        isSuperuser: false,
        isVerified: true,
        isActive: true,
      });
      // Still a customer: the staff list stays closed, the session still works.
      expect(await call('GET', '/api/users/', { headers: me.headers })).toMatchObject({
        status: 403,
        body: FORBIDDEN,
      });
      expect((await call('GET', '/api/users/me/', { headers: me.headers })).status).toBe(200);
    });

    it('refuses `email`, a taken username and a bad phone with 400 naming the field; nothing changes', async () => {
      const withEmail = await refused('PATCH', '/api/users/me/', {
        headers: customer.headers,
        payload: { email: 'new-alice@example.com', first_name: 'Changed' },
      });
      expect(withEmail.status).toBe(400);
      expect(withEmail.body).toEqual({ email: [expect.any(String)] });

      const taken = await refused('PATCH', '/api/users/me/', {
        headers: customer.headers,
        payload: { username: 'BOB' },
      });
      expect(taken.status).toBe(400);
      expect(taken.body).toEqual({ username: [expect.any(String)] });

      const badUsername = await refused('PATCH', '/api/users/me/', {
        headers: customer.headers,
        payload: { username: 'has space' },
      });
      expect(badUsername.status).toBe(400);
      expect(badUsername.body).toEqual({ username: [expect.any(String)] });

      const phone = await refused('PATCH', '/api/users/me/', {
        headers: customer.headers,
        payload: { phone: 'call me maybe' },
      });
      expect(phone.status).toBe(400);
      expect(phone.body).toEqual({ phone: [expect.any(String)] });
    });
  });

  describe('POST /api/users/me/password/', () => {
    it('a wrong current password or a weak new one is 400 and changes nothing', async () => {
      const wrong = await refused('POST', '/api/users/me/password/', {
        headers: other.headers,
        payload: { current_password: 'Not-The-Password-1', new_password: NEW_PASSWORD },
      });
      expect(wrong).toMatchObject({
        status: 400,
        body: { current_password: ['Current password is incorrect.'] },
      });

      const weak = await refused('POST', '/api/users/me/password/', {
        headers: other.headers,
        payload: { current_password: PASSWORD, new_password: 'bob12345' },
      });
      expect(weak.status).toBe(400);
      expect(Object.keys(weak.body!)).toEqual(['new_password']);

      const missing = await refused('POST', '/api/users/me/password/', {
        headers: other.headers,
        payload: { new_password: NEW_PASSWORD },
      });
      expect(missing.status).toBe(400);
      expect(missing.body).toEqual({ current_password: [expect.any(String)] });
    });

    it('with the current password: 200, every refresh token ends, the new password signs in', async () => {
      const me = await signedInUser(t.app, t.deps, { username: 'changer' });
      const res = await call('POST', '/api/users/me/password/', {
        headers: me.headers,
        payload: { current_password: PASSWORD, new_password: NEW_PASSWORD },
      });
      expect(res).toMatchObject({ status: 200, body: { detail: expect.any(String) } });
      expect(await liveRefreshTokens(me.user.id)).toEqual([]);
      expect(
        await call('POST', '/api/auth/token/refresh/', { payload: { refresh: me.refresh } }),
      ).toMatchObject({ status: 401, body: REFRESH_INVALID });
      expect(
        await call('POST', '/api/auth/token/', { payload: { username: 'changer', password: PASSWORD } }),
      ).toMatchObject({ status: 401, body: NO_ACCOUNT });
      await expect(tokensFor(t.app, 'changer', NEW_PASSWORD)).resolves.toBeDefined();
    });
  });

  describe('GET /api/users/ is staff only', () => {
    it.each([
      ['anonymous', 401, NO_CREDENTIALS],
      ['customer', 403, FORBIDDEN],
      ['other', 403, FORBIDDEN],
    ] as const)('%s → %i', async (actor, status, body) => {
      for (const url of ['/api/users/', '/api/users', '/api/users/?is_verified=bogus&page=999&search=a']) {
        const res = await refused('GET', url, { headers: headersOf(actor) });
        expect(res).toMatchObject({ status, body });
      }
    });

    it('staff → 200 with every user and the staff fields', async () => {
      const res = await call('GET', '/api/users/?page_size=100', { headers: staff.headers });
      expect(res.status).toBe(200);
      const all = await t.deps.db
        .select({ id: users.id })
        .from(users)
        .orderBy(asc(users.username), asc(users.id));
      expect(res.body!.count).toBe(all.length);
      expect(res.body!.results.map((u: Body) => u.id)).toEqual(all.map((u) => u.id));
      for (const u of res.body!.results as Body[]) expect(Object.keys(u).sort()).toEqual(STAFF_FIELDS);
      expect(JSON.stringify(res.body)).not.toContain('argon2');
    });
  });

  describe('GET /api/users/<id>/', () => {
    it.each([
      ['anonymous', 401, NO_CREDENTIALS],
      ['other', 404, NOT_FOUND],
    ] as const)("%s reading a customer's profile → %i", async (actor, status, body) => {
      const res = await refused('GET', `/api/users/${customer.user.id}/`, { headers: headersOf(actor) });
      expect(res).toMatchObject({ status, body });
    });

    it('a customer reads their own id → 200 without the staff fields', async () => {
      const res = await call('GET', `/api/users/${customer.user.id}/`, { headers: customer.headers });
      expect(res.status).toBe(200);
      expect(Object.keys(res.body!).sort()).toEqual(SELF_FIELDS);
      expect(res.body).toMatchObject({ id: customer.user.id, username: 'alice' });
    });

    it('staff read anyone → 200 with is_superuser and the verification-mail record', async () => {
      const res = await call('GET', `/api/users/${customer.user.id}/`, { headers: staff.headers });
      expect(res.status).toBe(200);
      expect(Object.keys(res.body!).sort()).toEqual(STAFF_FIELDS);
      const row = await userRow(customer.user.id);
      expect(res.body).toMatchObject({
        id: row.id,
        username: row.username,
        is_superuser: false,
        verification_email_attempts: row.verificationEmailAttempts,
        verification_email_last_attempt: row.verificationEmailLastAttempt?.toISOString() ?? null,
        verification_email_last_success: row.verificationEmailLastSuccess?.toISOString() ?? null,
      });
      const root = await call('GET', `/api/users/${superuser.user.id}`, { headers: staff.headers });
      expect(root).toMatchObject({
        status: 200,
        body: { username: 'root', is_superuser: true, is_staff: true },
      });
    });

    it('an id that does not exist or is not a number is 404 for everyone signed in (no probing)', async () => {
      for (const id of ['999999', '0', '-1', 'abc', '1.5', '99999999999999999999']) {
        for (const actor of ['customer', 'staff'] as const) {
          const res = await refused('GET', `/api/users/${id}/`, { headers: headersOf(actor) });
          expect(res, `${actor} /api/users/${id}/`).toMatchObject({ status: 404, body: NOT_FOUND });
        }
      }
    });
  });

  describe('PATCH /api/users/<id>/', () => {
    it.each([
      ['anonymous', 401, NO_CREDENTIALS],
      ['customer', 404, NOT_FOUND],
      ['other', 404, NOT_FOUND],
    ] as const)("%s editing a customer's account → %i, nothing changes", async (actor, status, body) => {
      for (const payload of [{ first_name: 'Hacked' }, { is_staff: true }, { is_active: false }]) {
        const res = await refused('PATCH', `/api/users/${customer.user.id}/`, {
          headers: headersOf(actor),
          payload,
        });
        expect(res).toMatchObject({ status, body });
      }
    });

    // As in DRF, who may edit is decided before the body is validated.
    it.each([
      ['anonymous', 401, NO_CREDENTIALS],
      ['customer', 404, NOT_FOUND],
      ['other', 404, NOT_FOUND],
    ] as const)('%s with an invalid body → %i, not a validation error', async (actor, status, body) => {
      const res = await refused('PATCH', `/api/users/${customer.user.id}/`, {
        headers: headersOf(actor),
        payload: { is_active: 'no', phone: '!' },
      });
      expect(res).toMatchObject({ status, body });
    });

    it('staff → 200 with the staff view, and the change is stored', async () => {
      const target = await makeUser(t.deps, { username: 'target1', isVerified: false });
      const res = await call('PATCH', `/api/users/${target.id}/`, {
        headers: staff.headers,
        payload: { first_name: 'Tara', last_name: 'Get', phone: '555-0100', is_verified: true },
      });
      expect(res.status).toBe(200);
      expect(Object.keys(res.body!).sort()).toEqual(STAFF_FIELDS);
      expect(res.body).toMatchObject({
        id: target.id,
        first_name: 'Tara',
        last_name: 'Get',
        phone: '555-0100',
        is_verified: true,
      });
      expect(await userRow(target.id)).toMatchObject({
        firstName: 'Tara',
        lastName: 'Get',
        phone: '555-0100',
        isVerified: true,
      });
    });

    it('staff: unknown id 404, taken username 400, a non-boolean flag 400, nothing changes', async () => {
      expect(
        await refused('PATCH', '/api/users/999999/', {
          headers: staff.headers,
          payload: { first_name: 'X' },
        }),
      ).toMatchObject({ status: 404, body: NOT_FOUND });
      const taken = await refused('PATCH', `/api/users/${other.user.id}/`, {
        headers: staff.headers,
        payload: { username: 'Alice' },
      });
      expect(taken.status).toBe(400);
      expect(taken.body).toEqual({ username: [expect.any(String)] });
      const notBoolean = await refused('PATCH', `/api/users/${other.user.id}/`, {
        headers: staff.headers,
        payload: { is_active: 'false' },
      });
      expect(notBoolean.status).toBe(400);
      expect(notBoolean.body).toEqual({ is_active: [expect.any(String)] });
    });

    it('changing is_staff is 403 for plain staff and allowed for a superuser', async () => {
      const target = await signedInUser(t.app, t.deps, { username: 'promotee' });
      const denied = await refused('PATCH', `/api/users/${target.user.id}/`, {
        headers: staff.headers,
        payload: { is_staff: true },
      });
      expect(denied.status).toBe(403);
      expect(denied.body).toEqual({ detail: expect.any(String) });

      const demote = await refused('PATCH', `/api/users/${staff.user.id}/`, {
        headers: staff.headers,
        payload: { is_staff: false },
      });
      expect(demote.status).toBe(403);

      const granted = await call('PATCH', `/api/users/${target.user.id}/`, {
        headers: superuser.headers,
        payload: { is_staff: true },
      });
      expect(granted).toMatchObject({ status: 200, body: { id: target.user.id, is_staff: true } });
      expect((await userRow(target.user.id)).isStaff).toBe(true);
      // Staff rights are read on every request: the same access token now opens the list.
      expect((await call('GET', '/api/users/', { headers: target.headers })).status).toBe(200);

      const revoked = await call('PATCH', `/api/users/${target.user.id}/`, {
        headers: superuser.headers,
        payload: { is_staff: false },
      });
      expect(revoked).toMatchObject({ status: 200, body: { is_staff: false } });
      expect(await call('GET', '/api/users/', { headers: target.headers })).toMatchObject({
        status: 403,
        body: FORBIDDEN,
      });
    });

    it('staff deactivate a user: their access token is 401, their refresh token and password refused', async () => {
      const victim = await signedInUser(t.app, t.deps, { username: 'victim' });
      expect((await call('GET', '/api/users/me/', { headers: victim.headers })).status).toBe(200);

      const res = await call('PATCH', `/api/users/${victim.user.id}/`, {
        headers: staff.headers,
        payload: { is_active: false },
      });
      expect(res).toMatchObject({ status: 200, body: { id: victim.user.id, is_active: false } });
      expect((await userRow(victim.user.id)).isActive).toBe(false);
      expect(await liveRefreshTokens(victim.user.id)).toEqual([]);

      const me = await call('GET', '/api/users/me/', { headers: victim.headers });
      expect(me.status).toBe(401);
      expect(me.body).toMatchObject({ code: 'token_not_valid' });
      expect(
        await call('POST', '/api/auth/token/refresh/', { payload: { refresh: victim.refresh } }),
      ).toMatchObject({ status: 401, body: REFRESH_INVALID });
      expect(
        await call('POST', '/api/auth/token/', { payload: { username: 'victim', password: PASSWORD } }),
      ).toMatchObject({ status: 401, body: NO_ACCOUNT });

      // Staff still see the account (users are never deleted) and can bring it back.
      const back = await call('PATCH', `/api/users/${victim.user.id}/`, {
        headers: staff.headers,
        payload: { is_active: true },
      });
      expect(back).toMatchObject({ status: 200, body: { is_active: true } });
      await expect(tokensFor(t.app, 'victim')).resolves.toBeDefined();
    });

    it('staff cannot deactivate themselves (400 naming is_active)', async () => {
      const res = await refused('PATCH', `/api/users/${staff.user.id}/`, {
        headers: staff.headers,
        payload: { is_active: false },
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ is_active: [expect.any(String)] });
    });
  });

  describe('DELETE and PUT on /api/users/<id>/', () => {
    it.each(['anonymous', 'customer', 'staff'] as const)(
      '%s → 405 with Allow, the user stays',
      async (actor) => {
        for (const method of ['DELETE', 'PUT'] as const) {
          const res = await refused(method, `/api/users/${other.user.id}/`, { headers: headersOf(actor) });
          expect(res.status).toBe(405);
          expect(res.body).toEqual({ detail: `Method "${method}" not allowed.` });
          expect(String(res.headers.allow)).toContain('GET');
          expect(String(res.headers.allow)).toContain('PATCH');
          expect(String(res.headers.allow)).not.toContain('DELETE');
        }
        expect((await userRow(other.user.id)).isActive).toBe(true);
      },
    );
  });

  describe('bearer tokens', () => {
    it('a tampered access token (one character changed) is 401 token_not_valid', async () => {
      for (const segment of [1, 2] as const) {
        const res = await refused('GET', '/api/users/me/', {
          headers: bearer(tamper(customer.access, segment)),
        });
        expect(res.status).toBe(401);
        expect(res.body).toEqual({ detail: expect.any(String), code: 'token_not_valid' });
      }
    });

    it("a forged payload naming staff's id, without the signature, is 401", async () => {
      const [header, payload, signature] = customer.access.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Body;
      claims.user_id = staff.user.id;
      const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
      const res = await refused('GET', '/api/users/', { headers: bearer(forged) });
      expect(res).toMatchObject({ status: 401, body: { code: 'token_not_valid' } });
    });

    it('a token signed with another key is 401', async () => {
      const foreign = await new TokenSigner('some-other-secret-key-0123456789abcdefgh').sign(
        'access',
        { userId: staff.user.id },
        new Date(),
        300,
      );
      const res = await refused('GET', '/api/users/', { headers: bearer(foreign.token) });
      expect(res).toMatchObject({ status: 401, body: { code: 'token_not_valid' } });
    });

    it('a refresh token used as an access token is 401', async () => {
      const res = await refused('GET', '/api/users/me/', { headers: bearer(customer.refresh) });
      expect(res).toMatchObject({ status: 401, body: { code: 'token_not_valid' } });
    });

    it('a malformed Bearer header is 401 token_not_valid', async () => {
      for (const authorization of [
        'Bearer',
        'Bearer ',
        `Bearer ${customer.access} extra`,
        'Bearer not.a.jwt',
      ]) {
        const res = await refused('GET', '/api/users/me/', { headers: { authorization } });
        expect(res, authorization).toMatchObject({ status: 401, body: { code: 'token_not_valid' } });
      }
    });

    it('an access token is 401 once it is older than 5 minutes; the refresh token still works', async () => {
      const me = await signedInUser(t.app, t.deps, { username: 'sleeper' });
      try {
        shiftMs = 4 * 60_000;
        expect((await call('GET', '/api/users/me/', { headers: me.headers })).status).toBe(200);
        shiftMs = 6 * 60_000;
        const expired = await refused('GET', '/api/users/me/', { headers: me.headers });
        expect(expired.status).toBe(401);
        expect(expired.body).toEqual({ detail: expect.any(String), code: 'token_not_valid' });

        const renewed = await call('POST', '/api/auth/token/refresh/', { payload: { refresh: me.refresh } });
        expect(renewed.status).toBe(200);
        expect(
          await call('GET', '/api/users/me/', { headers: bearer(renewed.body!.access as string) }),
        ).toMatchObject({ status: 200, body: { username: 'sleeper' } });
      } finally {
        shiftMs = 0;
      }
    });
  });
});

describe('accounts: the staff users list (search, filters, ordering, pagination)', () => {
  let t: TestApp;
  let staffHeaders: Record<string, string>;

  const known = [
    { username: 'anna', email: 'anna@shop.test', firstName: 'Anna', lastName: 'Smith' },
    { username: 'bob', email: 'bob.smith@example.org', firstName: 'Robert', lastName: 'Jones' },
    {
      username: 'carol',
      email: 'carol@example.com',
      firstName: 'Carol',
      lastName: 'Annandale',
      isVerified: false,
    },
    {
      username: 'dave_smithers',
      email: 'dave@example.com',
      firstName: 'Dave',
      lastName: 'Brown',
      isActive: false,
    },
    {
      username: 'erin',
      email: 'erin@annex.test',
      firstName: 'Erin',
      lastName: 'Lee',
      isVerified: false,
      isActive: false,
    },
    { username: 'frank', email: 'frank@example.com', firstName: 'Frank', lastName: 'Ward' },
  ];

  beforeAll(async () => {
    t = await createTestApp();
    const staff = await signedInUser(t.app, t.deps, {
      username: 'staffer',
      email: 'staffer@example.com',
      firstName: 'Sam',
      lastName: 'Staff',
      isStaff: true,
    });
    staffHeaders = staff.headers;
    for (const fields of known) await makeUser(t.deps, fields);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function list(query: string) {
    const res = await t.app.inject({ method: 'GET', url: `/api/users/${query}`, headers: staffHeaders });
    return { status: res.statusCode, body: res.json<Body>() };
  }

  const usernames = (body: Body) => (body.results as Body[]).map((u) => u.username as string);

  /** What the database says, in the list's order: `where`, then the ordering, then id. */
  async function expected(where: SQL | undefined, ...orderBy: SQL[]) {
    const rows = await t.deps.db
      .select({ id: users.id, username: users.username })
      .from(users)
      .where(where)
      .orderBy(...(orderBy.length ? orderBy : [asc(users.username)]), asc(users.id));
    return rows;
  }

  it('lists everyone by username by default, matching the database', async () => {
    const res = await list('');
    expect(res.status).toBe(200);
    const db = await expected(undefined);
    expect(res.body.count).toBe(7);
    expect(res.body).toMatchObject({ count: db.length, next: null, previous: null });
    expect((res.body.results as Body[]).map((u) => u.id)).toEqual(db.map((u) => u.id));
    expect(usernames(res.body)).toEqual([
      'anna',
      'bob',
      'carol',
      'dave_smithers',
      'erin',
      'frank',
      'staffer',
    ]);
  });

  it.each([
    ['smith', ['anna', 'bob', 'dave_smithers']], // last_name, email, username
    ['SMITH', ['anna', 'bob', 'dave_smithers']], // case-insensitive
    ['ann', ['anna', 'carol', 'erin']], // username/first_name, last_name, email
    ['robert', ['bob']], // first_name only
    ['ann smith', ['anna']], // every term must match
    ['smith   example', ['bob', 'dave_smithers']],
    ['annex', ['erin']],
    ['_', ['dave_smithers']], // LIKE wildcards match literally
    ['%', []],
    ['nobody', []],
  ])('search=%s', async (search, names) => {
    const res = await list(`?search=${encodeURIComponent(search)}`);
    expect(res.status).toBe(200);
    expect(usernames(res.body)).toEqual(names);
    expect(res.body.count).toBe(names.length);
  });

  it.each([
    ['is_verified=true', eq(users.isVerified, true)],
    ['is_verified=1', eq(users.isVerified, true)],
    ['is_verified=false', eq(users.isVerified, false)],
    ['is_verified=0', eq(users.isVerified, false)],
    ['is_active=true', eq(users.isActive, true)],
    ['is_active=0', eq(users.isActive, false)],
    ['is_active=false&is_verified=false', and(eq(users.isActive, false), eq(users.isVerified, false))],
  ])('%s', async (query, where) => {
    const res = await list(`?${query}`);
    expect(res.status).toBe(200);
    const db = await expected(where);
    expect(res.body.count).toBe(db.length);
    expect((res.body.results as Body[]).map((u) => u.id)).toEqual(db.map((u) => u.id));
    expect(db.length).toBeGreaterThan(0);
    expect(db.length).toBeLessThan(7);
  });

  it('filters compose with search', async () => {
    const res = await list('?search=smith&is_active=true');
    expect(usernames(res.body)).toEqual(['anna', 'bob']);
    const unverified = await list('?is_verified=false&search=ann');
    expect(usernames(unverified.body)).toEqual(['carol', 'erin']);
  });

  it('a malformed boolean is 400 naming the parameter', async () => {
    for (const [query, names] of [
      ['is_verified=yes', ['is_verified']],
      ['is_active=maybe', ['is_active']],
      ['is_verified=2&is_active=nope', ['is_active', 'is_verified']],
    ] as const) {
      const res = await list(`?${query}`);
      expect(res.status, query).toBe(400);
      expect(Object.keys(res.body).sort()).toEqual(names);
      for (const name of names) expect(res.body[name]).toEqual([expect.any(String)]);
    }
  });

  it.each([
    ['username', [asc(users.username)]],
    ['-username', [desc(users.username)]],
    ['-email', [desc(users.email)]],
    ['email', [asc(users.email)]],
    ['id', [asc(users.id)]],
    ['-id', [desc(users.id)]],
    ['unknown', [asc(users.username)]], // unknown fields are ignored: the default applies
    ['password,-id', [desc(users.id)]], // not an ordering field
  ])('ordering=%s', async (ordering, orderBy) => {
    const res = await list(`?ordering=${ordering}`);
    expect(res.status).toBe(200);
    const db = await expected(undefined, ...orderBy);
    expect((res.body.results as Body[]).map((u) => u.id)).toEqual(db.map((u) => u.id));
  });

  it('ordering=-email gives the e-mails in descending order', async () => {
    const res = await list('?ordering=-email');
    expect((res.body.results as Body[]).map((u) => u.email)).toEqual([
      'staffer@example.com',
      'frank@example.com',
      'erin@annex.test',
      'dave@example.com',
      'carol@example.com',
      'bob.smith@example.org',
      'anna@shop.test',
    ]);
  });

  it('pages: page_size, next and previous keep the other parameters, no overlap, no gap', async () => {
    const query = '?ordering=-id&is_active=true&page_size=2';
    const seen: number[] = [];
    let url: string | null = `http://localhost/api/users/${query}`;
    let page = 0;
    while (url) {
      page++;
      const parsed: URL = new URL(url);
      const res = await list(parsed.search);
      expect(res.status).toBe(200);
      expect(res.body.results.length).toBeLessThanOrEqual(2);
      seen.push(...(res.body.results as Body[]).map((u) => u.id as number));
      if (res.body.next) {
        const next = new URL(res.body.next as string);
        expect(next.pathname).toBe('/api/users/');
        expect(next.searchParams.get('ordering')).toBe('-id');
        expect(next.searchParams.get('is_active')).toBe('true');
        expect(next.searchParams.get('page_size')).toBe('2');
        expect(next.searchParams.get('page')).toBe(String(page + 1));
      }
      if (page === 1) expect(res.body.previous).toBeNull();
      else {
        const previous = new URL(res.body.previous as string);
        expect(previous.searchParams.get('ordering')).toBe('-id');
        expect(previous.searchParams.get('page_size')).toBe('2');
        expect(previous.searchParams.get('page')).toBe(page === 2 ? null : String(page - 1));
      }
      url = res.body.next as string | null;
    }
    const db = await expected(eq(users.isActive, true), desc(users.id));
    expect(seen).toEqual(db.map((u) => u.id));
    expect(page).toBe(Math.ceil(db.length / 2));
  });

  it('page past the end, 0 and not a number are 404 Invalid page.; page_size over 100 is capped', async () => {
    for (const page of ['999', '0', 'abc', '-1']) {
      const res = await list(`?page=${page}`);
      expect(res, `page=${page}`).toEqual({ status: 404, body: INVALID_PAGE });
    }
    const lastPage = await list('?page_size=3&page=3');
    expect(lastPage.status).toBe(200);
    expect(usernames(lastPage.body)).toEqual(['staffer']);
    expect(await list('?page_size=3&page=4')).toEqual({ status: 404, body: INVALID_PAGE });
    const big = await list('?page_size=500');
    expect(big.status).toBe(200);
    expect(big.body.results).toHaveLength(7);
  });

  it('a page of nothing (search without matches) is page 1 with no links', async () => {
    expect(await list('?search=zzz')).toEqual({
      status: 200,
      body: { count: 0, next: null, previous: null, results: [] },
    });
  });
});

describe('accounts: superusers are changed only by superusers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('refuses a staff user who is not a superuser, and lets a superuser through', async () => {
    const root = await makeUser(t.deps, { isStaff: true, isSuperuser: true });
    const staff = await signedInUser(t.app, t.deps, { isStaff: true });
    const refused = await t.app.inject({
      method: 'PATCH',
      url: `/api/users/${root.id}/`,
      headers: staff.headers,
      payload: { is_active: false },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toEqual({ detail: 'Only a superuser can change a superuser.' });
    const [unchanged] = await t.deps.db.select().from(users).where(eq(users.id, root.id));
    expect(unchanged!.isActive).toBe(true);

    const other = await signedInUser(t.app, t.deps, { isStaff: true, isSuperuser: true });
    const allowed = await t.app.inject({
      method: 'PATCH',
      url: `/api/users/${root.id}/`,
      headers: other.headers,
      payload: { first_name: 'Root' },
    });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.json()).toMatchObject({ first_name: 'Root', is_superuser: true });
  });
});
