import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { linkIn } from '../helpers/accounts.js';
import { recipientsOf } from '../helpers/smtp.js';
import { waitFor } from '../helpers/wait.js';

const SITE = 'http://shop.test';
const PASSWORD = 'Tulip-Orbit-Canvas-42';

// The longest address the schema accepts: a 64-character local part (RFC 5321's limit) and a
// domain of 63-character labels, 254 characters in all. The mail goes to files: the SMTP sink of the
// tests (smtp-server) refuses addresses over 253 characters.
const LONG_EMAIL = `${'l'.repeat(64)}@${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(57)}.com`;

describe('e-mail verification for the longest addresses', () => {
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp({ env: { SITE_URL: SITE } });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => t.close());

  /** The messages the mailer has written so far. */
  const mailedFiles = async (): Promise<ParsedMail[]> => {
    const dir = path.join(t.config.dataDir, 'mail');
    const names = await readdir(dir).catch(() => []);
    return Promise.all(names.map(async (name) => simpleParser(await readFile(path.join(dir, name)))));
  };

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  /** Registers `username` at `email` and returns the verification link mailed to it. */
  const registerAndGetLink = async (username: string, email: string) => {
    const registered = await call('POST', '/api/register/', {
      username,
      email,
      password: PASSWORD,
      first_name: 'Long',
      last_name: 'Address',
    });
    expect(registered.status).toBe(201);
    let mail: ParsedMail | undefined;
    await waitFor(
      async () => {
        // A file still being written may parse without its body: wait for the link itself.
        mail = (await mailedFiles()).find(
          (m) =>
            recipientsOf(m).includes(email.toLowerCase()) && m.text?.includes(`${SITE}/api/verify-email/`),
        );
        return mail !== undefined;
      },
      10_000,
      `the verification e-mail to ${username}`,
    );
    return linkIn(mail!, `${SITE}/api/verify-email/`);
  };

  it('a user registered with a 254-character address verifies through the mailed link and signs in', async () => {
    expect(LONG_EMAIL).toHaveLength(254);
    const link = await registerAndGetLink('longest', LONG_EMAIL);

    const before = await call('POST', '/api/auth/token/', { email: LONG_EMAIL, password: PASSWORD });
    expect(before.status).toBe(403);

    expect(await call('GET', new URL(link).pathname)).toEqual({
      status: 200,
      body: { detail: 'Email verified successfully.' },
    });
    const after = await call('POST', '/api/auth/token/', { email: LONG_EMAIL, password: PASSWORD });
    expect(after.status).toBe(200);
  });

  it('the link is as long for the longest address as for a short one', async () => {
    const long = await registerAndGetLink('long_again', LONG_EMAIL.replace(/^l/, 'm'));
    const short = await registerAndGetLink('short', 's@x.io');
    expect(long.length).toBe(short.length);
  });
});
