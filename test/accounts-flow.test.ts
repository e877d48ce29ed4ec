import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';
import { linkIn } from './helpers/accounts.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp.js';

describe('accounts end to end over real HTTP with a real SMTP server', () => {
  let smtp: SmtpSink;
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({ env: { EMAIL_URL: smtp.url, SITE_URL: 'http://shop.test' } });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const call = async (method: string, path: string, body?: unknown, access?: string) => {
    const res = await fetch(base + path, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(access ? { authorization: `Bearer ${access}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : null };
  };

  it('registers, verifies by the e-mailed link, signs in, rotates and signs out', async () => {
    const registered = await call('POST', '/api/register/', {
      username: 'alice',
      email: 'Alice@Example.COM',
      password: 'Tulip-Orbit-Canvas-42',
      first_name: 'Alice',
      last_name: 'Liddell',
      is_staff: true,
      is_verified: true,
    });
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({
      message: 'User created successfully. Please check your email for verification.',
      user: { username: 'alice', email: 'Alice@example.com', is_verified: false, is_staff: false },
    });
    expect(registered.body!.user).not.toHaveProperty('password');

    const [mail] = await smtp.waitForMessages(1);
    expect(mail!.html).toContain('/api/verify-email/');
    const link = linkIn(mail!, 'http://shop.test/api/verify-email/');
    expect(mail!.html).toContain(link.replace(/&/g, '&amp;'));

    const before = await call('POST', '/api/auth/token/', {
      username: 'alice',
      password: 'Tulip-Orbit-Canvas-42',
    });
    expect(before.status).toBe(403);

    const verified = await call('GET', new URL(link).pathname);
    expect(verified).toEqual({ status: 200, body: { detail: 'Email verified successfully.' } });

    const byUsername = await call('POST', '/api/auth/token/', {
      username: 'alice',
      password: 'Tulip-Orbit-Canvas-42',
    });
    expect(byUsername.status).toBe(200);
    const byEmail = await call('POST', '/api/auth/token/', {
      email: 'alice@example.com',
      password: 'Tulip-Orbit-Canvas-42',
    });
    expect(byEmail.status).toBe(200);
    const byEmailAsUsername = await call('POST', '/api/auth/token/', {
      username: 'ALICE@example.com',
      password: 'Tulip-Orbit-Canvas-42',
    });
    expect(byEmailAsUsername.status).toBe(200);

    const me = await call('GET', '/api/users/me/', undefined, byUsername.body!.access);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ username: 'alice', is_verified: true, first_name: 'Alice' });

    const rotated = await call('POST', '/api/auth/token/refresh/', { refresh: byUsername.body!.refresh });
    expect(rotated.status).toBe(200);
    expect(rotated.body!.refresh).not.toBe(byUsername.body!.refresh);
    expect((await call('GET', '/api/users/me/', undefined, rotated.body!.access)).status).toBe(200);

    // The old refresh token is used up; showing it again revokes its whole family.
    const replay = await call('POST', '/api/auth/token/refresh/', { refresh: byUsername.body!.refresh });
    expect(replay).toEqual({
      status: 401,
      body: { detail: 'Token is invalid or expired', code: 'token_not_valid' },
    });
    const familyGone = await call('POST', '/api/auth/token/refresh/', { refresh: rotated.body!.refresh });
    expect(familyGone.status).toBe(401);

    // The sign-in by e-mail is another family, untouched; logging out ends it.
    const out = await call('POST', '/api/auth/logout/', { refresh: byEmail.body!.refresh });
    expect(out.status).toBe(204);
    const afterLogout = await call('POST', '/api/auth/token/refresh/', { refresh: byEmail.body!.refresh });
    expect(afterLogout.status).toBe(401);
    const third = await call('POST', '/api/auth/token/refresh/', {
      refresh: byEmailAsUsername.body!.refresh,
    });
    expect(third.status).toBe(200);
  });

  it('records the delivery of the verification e-mail on the user', async () => {
    const { users } = await import('../src/modules/accounts/tables.js');
    const { eq } = await import('drizzle-orm');
    const [row] = await t.deps.db.select().from(users).where(eq(users.username, 'alice'));
    expect(row).toMatchObject({ verificationEmailAttempts: 1, isVerified: true });
    expect(row!.verificationEmailLastSuccess).toBeInstanceOf(Date);
  });
});
