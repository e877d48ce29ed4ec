import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { simpleParser } from 'mailparser';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { buildDeps, type Deps } from '../../src/deps.js';
import { linkIn, makeUser } from '../helpers/accounts.js';
import { testConfig } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { waitFor } from '../helpers/wait.js';

interface LogLine {
  msg: string;
  file?: string;
}

describe('a password reset with mail to files', () => {
  const logged: string[] = [];
  let database: TestDatabase;
  let deps: Deps;
  let app: FastifyInstance;

  beforeAll(async () => {
    database = await createTestDatabase();
    // No EMAIL_URL: mail goes to files. Without Redis the job runs in this process, whose log we hold.
    const config = testConfig({ DATABASE_URL: database.url, REDIS_URL: undefined, LOG_LEVEL: 'info' });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(chunk.toString());
        done();
      },
    });
    deps = await buildDeps(config, { migrate: true, pgliteDir: null, log: pino({ level: 'info' }, sink) });
    app = await buildApp(deps);
    deps.jobs.start({ periodic: false });
  });
  afterAll(async () => {
    await app.close();
    await deps.close();
    await database.drop();
    rmSync(deps.config.dataDir, { recursive: true, force: true });
  });

  const lines = () => logged.join('').split('\n').filter(Boolean);

  it('logs the .eml file it wrote and never the token', async () => {
    const user = await makeUser(deps);
    const requested = await app.inject({
      method: 'POST',
      url: '/api/auth/password-reset/',
      payload: { email: user.email },
    });
    expect(requested.statusCode).toBe(200);

    await waitFor(
      () => lines().some((l) => l.includes('e-mail written to file')),
      10_000,
      'the mail log line',
    );
    const entry = lines()
      .map((l) => JSON.parse(l) as LogLine)
      .find((l) => l.msg === 'e-mail written to file')!;
    expect(entry.file).toMatch(/\.eml$/);

    // The token, from the file the log line names; it is genuine: it resets the password.
    const mail = await simpleParser(await readFile(entry.file!));
    const link = linkIn(mail, `${deps.config.siteUrl}/reset-password/?token=`);
    const token = new URL(link).searchParams.get('token')!;
    const confirmed = await app.inject({
      method: 'POST',
      url: '/api/auth/password-reset/confirm/',
      payload: { token, new_password: 'Fresh-Lantern-Quartz-71' },
    });
    expect(confirmed.statusCode).toBe(200);

    const output = logged.join('');
    expect(output).toContain(entry.file);
    expect(output).not.toContain(token);
    expect(output).not.toContain(encodeURIComponent(token));
    expect(output).not.toContain('/reset-password/');
  });
});
