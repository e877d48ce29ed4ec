import { asc, desc, eq, gt } from 'drizzle-orm';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SEND_PASSWORD_RESET_EMAIL } from '../src/modules/accounts/password-reset.js';
import { SEND_VERIFICATION_EMAIL } from '../src/modules/accounts/registration.js';
import { users, type User } from '../src/modules/accounts/tables.js';
import { TokenSigner } from '../src/modules/accounts/tokens.js';
import { jobs } from '../src/platform/jobs/tables.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { bearer, linkIn, makeUser, PASSWORD, tokensFor } from './helpers/accounts.js';
import { settleJobs } from './helpers/jobs.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp.js';
import { waitFor } from './helpers/wait.js';

const SITE = 'http://shop.test';
const NO_ACCOUNT = { detail: 'No active account found with the given credentials' };
const NOT_VERIFIED = { detail: 'Email not verified. Please verify your email before logging in.' };
const LINK_INVALID = { detail: 'Invalid verification link.' };
const LINK_EXPIRED = { detail: 'Verification link expired.' };
const VERIFIED = { detail: 'Email verified successfully.' };
const REFRESH_INVALID = { detail: 'Token is invalid or expired', code: 'token_not_valid' };
const RESET_TOKEN_INVALID = { token: ['Invalid or expired token.'] };
const NEW_PASSWORD = 'Lantern-Quartz-Meadow-73';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('accounts: credentials, verification links, reset and session tokens', () => {
  let smtp: SmtpSink;
  let t: TestApp;
  /** The application's clock: tests move it instead of sleeping. */
  let now = new Date();
  const advance = (ms: number) => {
    now = new Date(now.getTime() + ms);
  };

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({ env: { EMAIL_URL: smtp.url, SITE_URL: SITE }, clock: () => now });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });
  beforeEach(() => {
    now = new Date();
  });

  const post = async (url: string, payload: unknown, headers: Record<string, string> = {}) => {
    const res = await t.app.inject({ method: 'POST', url, payload: payload as object, headers });
    return { status: res.statusCode, body: res.body ? res.json<Record<string, unknown>>() : null };
  };
  const get = async (url: string, headers: Record<string, string> = {}) => {
    const res = await t.app.inject({ method: 'GET', url, headers });
    return { status: res.statusCode, body: res.body ? res.json<Record<string, unknown>>() : null };
  };
  const signIn = (payload: Record<string, string>) => post('/api/auth/token/', payload);
  const refresh = (token: string) => post('/api/auth/token/refresh/', { refresh: token });

  /** Waits until `address` has received one more message than `before`; returns the newest. */
  async function nextMailTo(address: string, before: number): Promise<ParsedMail> {
    await waitFor(() => smtp.messagesTo(address).length > before, 10_000, `an e-mail to ${address}`);
    return smtp.messagesTo(address).at(-1)!;
  }

  /**
   * Waits until every job scheduled so far has reached its final state. A mail job succeeds only
   * once the SMTP server has taken the message (the sink keeps it before it answers), so what the
   * sink holds then is all that was mailed.
   */
  const settle = () => settleJobs(t.deps);

  /** The highest job id so far: the jobs a test's requests schedule come after it. */
  async function lastJobId(): Promise<number> {
    const [row] = await t.deps.db.select({ id: jobs.id }).from(jobs).orderBy(desc(jobs.id)).limit(1);
    return row?.id ?? 0;
  }

  /** The jobs scheduled after `afterId`: name, recipient and final state. */
  async function jobsSince(afterId: number) {
    const rows = await t.deps.db.select().from(jobs).where(gt(jobs.id, afterId)).orderBy(asc(jobs.id));
    return rows.map((row) => ({ name: row.name, payload: row.payload, status: row.status }));
  }

  /** Asks for a new verification e-mail and returns the link it carries (as a path). */
  async function verificationPathFor(user: User): Promise<string> {
    const before = smtp.messagesTo(user.email).length;
    const res = await post('/api/resend-verification/', { email: user.email });
    expect(res.status).toBe(200);
    const mail = await nextMailTo(user.email, before);
    const link = linkIn(mail, `${SITE}/api/verify-email/`);
    expect(link).toMatch(/\/api\/verify-email\/[\w-]+\.[\w-]+\.[\w-]+\/$/);
    return new URL(link).pathname;
  }

  const tokenOfPath = (path: string) => path.replace('/api/verify-email/', '').replace(/\/$/, '');
  const verifyPath = (token: string) => `/api/verify-email/${token}/`;

  /** Replaces one character in the middle of `part` with another base64url character. */
  function tamper(token: string, part: 0 | 1 | 2): string {
    const parts = token.split('.');
    const segment = parts[part]!;
    const i = Math.floor(segment.length / 2);
    const replacement = segment[i] === 'A' ? 'B' : 'A';
    parts[part] = segment.slice(0, i) + replacement + segment.slice(i + 1);
    const tampered = parts.join('.');
    expect(tampered).not.toBe(token);
    return tampered;
  }

  async function reload(user: User): Promise<User | undefined> {
    const [row] = await t.deps.db.select().from(users).where(eq(users.id, user.id));
    return row;
  }

  /** Requests a reset for `email` and returns the token from the e-mail, with the mail itself. */
  async function resetTokenFor(email: string): Promise<{ token: string; mail: ParsedMail }> {
    const before = smtp.messagesTo(email).length;
    const res = await post('/api/auth/password-reset/', { email });
    expect(res.status).toBe(200);
    const mail = await nextMailTo(email, before);
    const match = /Your reset token: (\S+)/.exec(mail.text ?? '');
    if (!match) throw new Error(`no reset token in:\n${mail.text}`);
    return { token: match[1]!, mail };
  }

  const confirmReset = (token: string, newPassword: string) =>
    post('/api/auth/password-reset/confirm/', { token, new_password: newPassword });

  describe('sign-in', () => {
    it('checks the password before saying an account is unverified', async () => {
      const user = await makeUser(t.deps, { isVerified: false });

      const wrong = await signIn({ username: user.username, password: 'Not-The-Password-1' });
      expect(wrong).toEqual({ status: 401, body: NO_ACCOUNT });

      const right = await signIn({ username: user.username, password: PASSWORD });
      expect(right).toEqual({ status: 403, body: NOT_VERIFIED });

      // The same holds when signing in by e-mail address.
      expect(await signIn({ email: user.email, password: 'Not-The-Password-1' })).toEqual({
        status: 401,
        body: NO_ACCOUNT,
      });
      expect(await signIn({ email: user.email, password: PASSWORD })).toEqual({
        status: 403,
        body: NOT_VERIFIED,
      });
    });

    it('answers an unknown user and an inactive one exactly like a wrong password', async () => {
      const verified = await makeUser(t.deps);
      expect(await signIn({ username: verified.username, password: 'Not-The-Password-1' })).toEqual({
        status: 401,
        body: NO_ACCOUNT,
      });
      expect(await signIn({ username: 'nobody-at-all', password: PASSWORD })).toEqual({
        status: 401,
        body: NO_ACCOUNT,
      });
      expect(await signIn({ email: 'nobody-at-all@example.com', password: PASSWORD })).toEqual({
        status: 401,
        body: NO_ACCOUNT,
      });

      const inactive = await makeUser(t.deps, { isActive: false });
      expect(await signIn({ username: inactive.username, password: PASSWORD })).toEqual({
        status: 401,
        body: NO_ACCOUNT,
      });
      expect(await signIn({ email: inactive.email, password: PASSWORD })).toEqual({
        status: 401,
        body: NO_ACCOUNT,
      });
      // Inactive and unverified: still the 401, never the 403.
      const both = await makeUser(t.deps, { isActive: false, isVerified: false });
      expect(await signIn({ username: both.username, password: PASSWORD })).toEqual({
        status: 401,
        body: NO_ACCOUNT,
      });
    });

    it('takes the e-mail address in `email` or in `username`, case-insensitively', async () => {
      const user = await makeUser(t.deps, {
        username: `Mixed_${Date.now()}`,
        email: `Mixed.Case.${Date.now()}@Example.com`,
      });
      const shapes: Array<Record<string, string>> = [
        { email: user.email },
        { email: user.email.toUpperCase() },
        { email: user.email.toLowerCase() },
        { username: user.email },
        { username: user.email.toUpperCase() },
        { username: user.email.toLowerCase() },
        { username: user.username },
        { username: user.username.toLowerCase() },
        { username: user.username.toUpperCase() },
      ];
      for (const shape of shapes) {
        const res = await signIn({ ...shape, password: PASSWORD });
        expect(res.status, JSON.stringify(shape)).toBe(200);
        expect(res.body).toEqual({ access: expect.any(String), refresh: expect.any(String) });
        const me = await get('/api/users/me/', bearer(res.body!.access as string));
        expect(me.status).toBe(200);
        expect(me.body).toMatchObject({ id: user.id, username: user.username });
      }
      // The password itself is case-sensitive.
      expect(await signIn({ email: user.email, password: PASSWORD.toUpperCase() })).toEqual({
        status: 401,
        body: NO_ACCOUNT,
      });
    });
  });

  describe('verification link', () => {
    it('verifies on the first click and answers the same on the second', async () => {
      const user = await makeUser(t.deps, { isVerified: false });
      const path = await verificationPathFor(user);

      expect(await get(path)).toEqual({ status: 200, body: VERIFIED });
      expect((await reload(user))?.isVerified).toBe(true);
      expect(await get(path)).toEqual({ status: 200, body: VERIFIED });
      expect((await reload(user))?.isVerified).toBe(true);
      expect((await signIn({ username: user.username, password: PASSWORD })).status).toBe(200);
    });

    it('expires after 24 hours (clock moved, no sleeping)', async () => {
      const early = await makeUser(t.deps, { isVerified: false });
      const late = await makeUser(t.deps, { isVerified: false });
      const earlyPath = await verificationPathFor(early);
      const latePath = await verificationPathFor(late);

      advance(DAY - SECOND);
      expect(await get(earlyPath)).toEqual({ status: 200, body: VERIFIED });

      advance(2 * SECOND); // 24 h + 1 s after issue
      expect(await get(latePath)).toEqual({ status: 400, body: LINK_EXPIRED });
      expect((await reload(late))?.isVerified).toBe(false);
    });

    it('refuses a link with one character changed in the signature or in the payload', async () => {
      const user = await makeUser(t.deps, { isVerified: false });
      const token = tokenOfPath(await verificationPathFor(user));

      expect(await get(verifyPath(tamper(token, 2)))).toEqual({ status: 400, body: LINK_INVALID });
      expect(await get(verifyPath(tamper(token, 1)))).toEqual({ status: 400, body: LINK_INVALID });
      expect(await get(verifyPath(tamper(token, 0)))).toEqual({ status: 400, body: LINK_INVALID });
      expect(await get(verifyPath('not-a-token'))).toEqual({ status: 400, body: LINK_INVALID });
      expect((await reload(user))?.isVerified).toBe(false);

      // The genuine link still works.
      expect(await get(verifyPath(token))).toEqual({ status: 200, body: VERIFIED });
    });

    it('refuses a link signed with another key', async () => {
      const user = await makeUser(t.deps, { isVerified: false });
      const { token } = await new TokenSigner('some-other-secret-key-0123456789-abcdefgh').sign(
        'verify_email',
        { userId: user.id, email: user.email },
        now,
        3600,
      );
      expect(await get(verifyPath(token))).toEqual({ status: 400, body: LINK_INVALID });
      expect((await reload(user))?.isVerified).toBe(false);
    });

    it('refuses the link of a deleted user', async () => {
      const user = await makeUser(t.deps, { isVerified: false });
      const path = await verificationPathFor(user);
      await t.deps.db.delete(users).where(eq(users.id, user.id));
      expect(await reload(user)).toBeUndefined();
      expect(await get(path)).toEqual({ status: 400, body: LINK_INVALID });
    });

    it('refuses a link issued before the e-mail address changed', async () => {
      const user = await makeUser(t.deps, { isVerified: false });
      const path = await verificationPathFor(user);
      await t.deps.db
        .update(users)
        .set({ email: `changed-${user.username}@example.com` })
        .where(eq(users.id, user.id));
      expect(await get(path)).toEqual({ status: 400, body: LINK_INVALID });
      expect((await reload(user))?.isVerified).toBe(false);
    });

    it('refuses a token of another type in the verification URL', async () => {
      // A real access and refresh token from sign-in.
      const signedIn = await makeUser(t.deps);
      const pair = await tokensFor(t.app, signedIn.username);
      expect(await get(verifyPath(pair.access))).toEqual({ status: 400, body: LINK_INVALID });
      expect(await get(verifyPath(pair.refresh))).toEqual({ status: 400, body: LINK_INVALID });

      // An access token that names an unverified user and even carries its address: the type decides.
      const user = await makeUser(t.deps, { isVerified: false });
      const signer = new TokenSigner(t.config.secretKey);
      for (const type of ['access', 'refresh'] as const) {
        const { token } = await signer.sign(type, { userId: user.id, email: user.email }, now, 3600);
        expect(await get(verifyPath(token))).toEqual({ status: 400, body: LINK_INVALID });
      }
      expect((await reload(user))?.isVerified).toBe(false);

      // And the other way round: a verification token is no access token.
      const { token: verifyToken } = await signer.sign(
        'verify_email',
        { userId: signedIn.id, email: signedIn.email },
        now,
        3600,
      );
      const me = await get('/api/users/me/', bearer(verifyToken));
      expect(me.status).toBe(401);
      expect(me.body).toMatchObject({ code: 'token_not_valid' });
      expect((await refresh(verifyToken)).body).toEqual(REFRESH_INVALID);
    });
  });

  describe('resend verification', () => {
    it('answers unknown, unverified and verified addresses alike; only the unverified one gets mail', async () => {
      const unverified = await makeUser(t.deps, { isVerified: false });
      const verified = await makeUser(t.deps);
      const unknown = `nobody-${Date.now()}@example.com`;
      await settle();
      smtp.clear();
      const before = await lastJobId();

      const answers = [];
      for (const email of [unknown, unverified.email, verified.email]) {
        answers.push(await post('/api/resend-verification/', { email }));
      }
      for (const answer of answers) expect(answer.status).toBe(200);
      expect(answers[0]!.body).toEqual({ detail: expect.any(String) });
      expect(answers[1]!.body).toEqual(answers[0]!.body);
      expect(answers[2]!.body).toEqual(answers[0]!.body);

      const mail = await nextMailTo(unverified.email, 0);
      await settle();
      // One mail job was scheduled, for the unverified address only, and it has run.
      expect(await jobsSince(before)).toEqual([
        { name: SEND_VERIFICATION_EMAIL, payload: { user_id: unverified.id }, status: 'succeeded' },
      ]);
      expect(smtp.messages).toHaveLength(1);
      expect(smtp.messagesTo(verified.email)).toHaveLength(0);
      expect(smtp.messagesTo(unknown)).toHaveLength(0);

      // The mail is a working verification link.
      const path = new URL(linkIn(mail, `${SITE}/api/verify-email/`)).pathname;
      expect(await get(path)).toEqual({ status: 200, body: VERIFIED });
    });

    it('finds the account whatever the case of the address', async () => {
      const user = await makeUser(t.deps, { isVerified: false });
      const res = await post('/api/resend-verification/', { email: user.email.toUpperCase() });
      expect(res.status).toBe(200);
      await nextMailTo(user.email, 0);
    });

    it('requires the e-mail address', async () => {
      expect(await post('/api/resend-verification/', {})).toEqual({
        status: 400,
        body: { email: ['This field is required.'] },
      });
    });
  });

  describe('password reset', () => {
    it('mails a single-use token; the reset ends every session and replaces the password', async () => {
      const user = await makeUser(t.deps);
      const session = await tokensFor(t.app, user.username);
      const other = await tokensFor(t.app, user.email);

      const { token, mail } = await resetTokenFor(user.email);
      expect(token.length).toBeGreaterThanOrEqual(32);
      const link = linkIn(mail, `${SITE}/reset-password/?token=`);
      expect(link).toBe(`${SITE}/reset-password/?token=${encodeURIComponent(token)}`);
      expect(new URL(link).searchParams.get('token')).toBe(token);
      expect(mail.html).toContain(token);

      expect(await confirmReset(token, NEW_PASSWORD)).toEqual({
        status: 200,
        body: { detail: expect.any(String) },
      });

      expect(await refresh(session.refresh)).toEqual({ status: 401, body: REFRESH_INVALID });
      expect(await refresh(other.refresh)).toEqual({ status: 401, body: REFRESH_INVALID });
      expect((await signIn({ username: user.username, password: NEW_PASSWORD })).status).toBe(200);
      expect(await signIn({ username: user.username, password: PASSWORD })).toEqual({
        status: 401,
        body: NO_ACCOUNT,
      });

      // Single use.
      expect(await confirmReset(token, 'Another-Strong-Pass-58')).toEqual({
        status: 400,
        body: RESET_TOKEN_INVALID,
      });
      expect((await signIn({ username: user.username, password: NEW_PASSWORD })).status).toBe(200);
    });

    it('expires the token after one hour', async () => {
      const user = await makeUser(t.deps);
      const { token: stale } = await resetTokenFor(user.email);
      advance(HOUR + SECOND);
      expect(await confirmReset(stale, NEW_PASSWORD)).toEqual({ status: 400, body: RESET_TOKEN_INVALID });
      expect((await signIn({ username: user.username, password: PASSWORD })).status).toBe(200);

      // A token is still good just before its hour is up.
      const { token: fresh } = await resetTokenFor(user.email);
      advance(HOUR - SECOND);
      expect((await confirmReset(fresh, NEW_PASSWORD)).status).toBe(200);
      expect((await signIn({ username: user.username, password: NEW_PASSWORD })).status).toBe(200);
    });

    it('refuses an unknown token', async () => {
      expect(await confirmReset('no-such-token-0123456789abcdefghijklmnop', NEW_PASSWORD)).toEqual({
        status: 400,
        body: RESET_TOKEN_INVALID,
      });
    });

    it('refuses a weak new password and leaves the token usable', async () => {
      const user = await makeUser(t.deps);
      const session = await tokensFor(t.app, user.username);
      const { token } = await resetTokenFor(user.email);

      const weak = await confirmReset(token, 'abc');
      expect(weak.status).toBe(400);
      expect(Object.keys(weak.body!)).toEqual(['new_password']);
      expect(weak.body!.new_password).toContain(
        'This password is too short. It must contain at least 8 characters.',
      );
      const numeric = await confirmReset(token, '8675309142');
      expect(numeric.status).toBe(400);
      expect(numeric.body!.new_password).toContain('This password is entirely numeric.');

      // Nothing changed: the old password and the session still work.
      expect((await signIn({ username: user.username, password: PASSWORD })).status).toBe(200);
      const rotated = await refresh(session.refresh);
      expect(rotated.status).toBe(200);

      expect((await confirmReset(token, NEW_PASSWORD)).status).toBe(200);
      expect(await refresh(rotated.body!.refresh as string)).toEqual({ status: 401, body: REFRESH_INVALID });
      expect((await signIn({ username: user.username, password: NEW_PASSWORD })).status).toBe(200);
    });

    it('answers an unknown address like a known one, and mails nobody', async () => {
      const user = await makeUser(t.deps);
      await settle();
      smtp.clear();
      const before = await lastJobId();
      const unknown = `nobody-${Date.now()}@example.com`;

      const forUnknown = await post('/api/auth/password-reset/', { email: unknown });
      const forKnown = await post('/api/auth/password-reset/', { email: user.email });
      expect(forUnknown.status).toBe(200);
      expect(forKnown.status).toBe(200);
      expect(forUnknown.body).toEqual({ detail: expect.any(String) });
      expect(forUnknown.body).toEqual(forKnown.body);

      await nextMailTo(user.email, 0);
      await settle();
      // One mail job was scheduled, for the known address only, and it has run.
      expect(await jobsSince(before)).toEqual([
        { name: SEND_PASSWORD_RESET_EMAIL, payload: { user_id: user.id }, status: 'succeeded' },
      ]);
      expect(smtp.messages).toHaveLength(1);
      expect(smtp.messagesTo(unknown)).toHaveLength(0);

      expect(await post('/api/auth/password-reset/', {})).toEqual({
        status: 400,
        body: { email: ['This field is required.'] },
      });
    });

    it('builds the link from PASSWORD_RESET_URL', async () => {
      const custom = await createTestApp({
        env: {
          EMAIL_URL: smtp.url,
          SITE_URL: SITE,
          PASSWORD_RESET_URL: 'https://shop.example/reset?t={token}',
        },
      });
      try {
        const user = await makeUser(custom.deps);
        const res = await custom.app.inject({
          method: 'POST',
          url: '/api/auth/password-reset/',
          payload: { email: user.email },
        });
        expect(res.statusCode).toBe(200);
        const mail = await nextMailTo(user.email, 0);
        const token = /Your reset token: (\S+)/.exec(mail.text ?? '')?.[1];
        expect(token).toBeDefined();
        const link = linkIn(mail, 'https://shop.example/reset?t=');
        expect(link).toBe(`https://shop.example/reset?t=${encodeURIComponent(token!)}`);
        expect(mail.text).not.toContain(`${SITE}/reset-password/`);

        const confirmed = await custom.app.inject({
          method: 'POST',
          url: '/api/auth/password-reset/confirm/',
          payload: { token, new_password: NEW_PASSWORD },
        });
        expect(confirmed.statusCode).toBe(200);
      } finally {
        await custom.close();
      }
    });
  });

  describe('password change', () => {
    it('needs the current password, then ends every session', async () => {
      const user = await makeUser(t.deps);
      const first = await tokensFor(t.app, user.username);
      const second = await tokensFor(t.app, user.email);

      const wrong = await post(
        '/api/users/me/password/',
        { current_password: 'Not-The-Password-1', new_password: NEW_PASSWORD },
        bearer(first.access),
      );
      expect(wrong.status).toBe(400);
      expect(Object.keys(wrong.body!)).toEqual(['current_password']);
      expect(wrong.body!.current_password).toEqual([expect.any(String)]);
      expect((await signIn({ username: user.username, password: PASSWORD })).status).toBe(200);

      const anonymous = await post('/api/users/me/password/', {
        current_password: PASSWORD,
        new_password: NEW_PASSWORD,
      });
      expect(anonymous.status).toBe(401);

      const changed = await post(
        '/api/users/me/password/',
        { current_password: PASSWORD, new_password: NEW_PASSWORD },
        bearer(first.access),
      );
      expect(changed).toEqual({ status: 200, body: { detail: expect.any(String) } });

      expect(await refresh(first.refresh)).toEqual({ status: 401, body: REFRESH_INVALID });
      expect(await refresh(second.refresh)).toEqual({ status: 401, body: REFRESH_INVALID });
      expect(await signIn({ username: user.username, password: PASSWORD })).toEqual({
        status: 401,
        body: NO_ACCOUNT,
      });
      const again = await signIn({ username: user.username, password: NEW_PASSWORD });
      expect(again.status).toBe(200);
      expect((await refresh(again.body!.refresh as string)).status).toBe(200);
    });

    it('uses up reset tokens issued before the change', async () => {
      const user = await makeUser(t.deps);
      const { token } = await resetTokenFor(user.email);
      const session = await tokensFor(t.app, user.username);
      const changed = await post(
        '/api/users/me/password/',
        { current_password: PASSWORD, new_password: NEW_PASSWORD },
        bearer(session.access),
      );
      expect(changed.status).toBe(200);
      expect(await confirmReset(token, 'Another-Strong-Pass-77')).toEqual({
        status: 400,
        body: { token: ['Invalid or expired token.'] },
      });
    });
  });

  describe('the email field of sign-in', () => {
    it('matches e-mail addresses only, not usernames', async () => {
      const user = await makeUser(t.deps);
      expect(await signIn({ email: user.username, password: PASSWORD })).toEqual({
        status: 401,
        body: NO_ACCOUNT,
      });
      expect((await signIn({ email: user.email.toUpperCase(), password: PASSWORD })).status).toBe(200);
    });
  });

  describe('token lifetimes', () => {
    it('accepts an access token for 5 minutes', async () => {
      const user = await makeUser(t.deps);
      const { access } = await tokensFor(t.app, user.username);

      advance(4 * MINUTE);
      expect((await get('/api/users/me/', bearer(access))).status).toBe(200);

      advance(2 * MINUTE);
      const expired = await get('/api/users/me/', bearer(access));
      expect(expired.status).toBe(401);
      expect(expired.body).toMatchObject({ detail: expect.any(String), code: 'token_not_valid' });
    });

    it('refuses a tampered access token', async () => {
      const user = await makeUser(t.deps);
      const { access } = await tokensFor(t.app, user.username);
      for (const part of [1, 2] as const) {
        const res = await get('/api/users/me/', bearer(tamper(access, part)));
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({ code: 'token_not_valid' });
      }
      expect((await get('/api/users/me/', bearer(access))).status).toBe(200);
    });

    it('refuses a refresh token after a day', async () => {
      const user = await makeUser(t.deps);
      const early = await tokensFor(t.app, user.username);
      const late = await tokensFor(t.app, user.username);

      advance(DAY - SECOND);
      expect((await refresh(early.refresh)).status).toBe(200);

      advance(2 * SECOND); // 1 d + 1 s after sign-in
      expect(await refresh(late.refresh)).toEqual({ status: 401, body: REFRESH_INVALID });
    });
  });
});
