/**
 * Issue 12, acceptance 4, and `jobs:list`: `jobs:run <name>` runs a periodic job now as an extra run
 * (a row of its own, `name@manual:…`, outside the period's once-key), waits for it and prints what
 * it did (`<name>: <result>.`); in eager mode this process runs it, and what it schedules (a reminder,
 * an alert) goes out from here too, once, however many times it is run. An unknown name, or a job
 * that is not periodic, is a CommandError naming the periodic jobs, and through the real CLI a
 * non-zero exit saying the same. `jobs:list` shows each job's schedule ("every 1 h", "every 30 min",
 * "every 10 s" with `ABANDONED_CART_INTERVAL=10s`) and the start of its next period.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { durationText, jobsList, jobsRun } from '../../src/commands/jobs.js';
import { CommandError } from '../../src/commands/output.js';
import { users } from '../../src/modules/accounts/tables.js';
import {
  PROCESS_ABANDONED_CARTS,
  SEND_ABANDONED_CART_EMAIL,
} from '../../src/modules/notifications/abandoned-carts.js';
import { SEND_LOW_STOCK_ALERT, UPDATE_LOW_STOCK_ALERTS } from '../../src/modules/notifications/low-stock.js';
import { jobs } from '../../src/platform/jobs/tables.js';
import { makeUser, signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeVariant } from '../helpers/commerce.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { settleJobs } from '../helpers/jobs.js';
import { captureOutput } from '../helpers/output.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MINUTE = 60_000;
const SITE_URL = 'https://shop.jobs-run.example';
const CLI_TIMEOUT_MS = 120_000;
/** Every periodic job the application registers (SPEC §9 and the platform's own). */
const PERIODIC = [
  'cancel_unpaid_orders',
  'process_abandoned_carts',
  'purge_idempotency_keys',
  'update_low_stock_alerts',
];
const MANUAL_KEY = (name: string) =>
  new RegExp(`^${name}@manual:\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z:[0-9a-f-]{36}$`);

async function commandError(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (err) {
    expect(err).toBeInstanceOf(CommandError);
    return (err as Error).message;
  }
  throw new Error('the command did not fail');
}

const jobCount = async (t: TestApp) =>
  (await t.deps.db.select({ n: sql<number>`cast(count(*) as integer)` }).from(jobs))[0]!.n;

describe('jobs:run and jobs:list on a shop with nothing to do (eager mode)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { JOBS_EAGER: 'true', ABANDONED_CART_INTERVAL: '10s' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('registers exactly these periodic jobs', () => {
    expect(
      t.deps.jobs.registry
        .periodic()
        .map((d) => d.name)
        .sort(),
    ).toEqual(PERIODIC);
  });

  it.each(PERIODIC)(
    '`jobs:run %s` runs it now as an extra run, in this process, and prints what it did',
    async (name) => {
      expect(t.deps.jobs.mode).toBe('eager');
      const out = captureOutput();
      const row = await jobsRun(t.deps, out, name);
      expect(row).toMatchObject({ name, status: 'succeeded', attempts: 1, lastError: null });
      expect(row.uniqueKey).toMatch(MANUAL_KEY(name));
      // What it did, in words (never the bare "done" of a job that says nothing).
      expect(row.result).toEqual(expect.stringMatching(/\S/));
      expect(out.errors).toEqual([]);
      expect(out.lines).toEqual([`${name}: ${row.result}.`]);
    },
  );

  it('says what the notification jobs did when there was nothing to do', async () => {
    const reminders = captureOutput();
    await jobsRun(t.deps, reminders, PROCESS_ABANDONED_CARTS);
    expect(reminders.lines).toEqual(['process_abandoned_carts: 0 reminders scheduled.']);
    const alerts = captureOutput();
    await jobsRun(t.deps, alerts, UPDATE_LOW_STOCK_ALERTS);
    expect(alerts.lines).toEqual(['update_low_stock_alerts: no active staff to alert.']);
  });

  it('each run is a row of its own, outside the period’s key: running it twice runs it twice', async () => {
    const first = await jobsRun(t.deps, captureOutput(), PROCESS_ABANDONED_CARTS);
    const second = await jobsRun(t.deps, captureOutput(), PROCESS_ABANDONED_CARTS);
    expect(second.id).not.toBe(first.id);
    expect(second.uniqueKey).not.toBe(first.uniqueKey);
    for (const row of [first, second]) {
      expect(row.uniqueKey).toMatch(MANUAL_KEY(PROCESS_ABANDONED_CARTS));
      expect(row.status).toBe('succeeded');
    }
  });

  it('an unknown name, or a job that is not periodic, is a CommandError naming the periodic jobs; nothing is recorded', async () => {
    const before = await jobCount(t);
    for (const name of ['nope', SEND_ABANDONED_CART_EMAIL, SEND_LOW_STOCK_ALERT]) {
      const out = captureOutput();
      const message = await commandError(jobsRun(t.deps, out, name));
      expect(message).toContain(`There is no periodic job named ${name}.`);
      for (const known of PERIODIC) expect(message).toContain(known);
      expect(out.lines).toEqual([]);
    }
    expect(await jobCount(t)).toBe(before);
  });

  it('jobs:list shows ABANDONED_CART_INTERVAL=10s as "every 10 s", next at the next 10 s boundary', () => {
    const out = captureOutput();
    jobsList(t.deps, out, new Date('2026-03-04T10:17:23.456Z'));
    const line = (name: string) => out.lines.find((l) => l.startsWith(`${name} `));
    expect(line(PROCESS_ABANDONED_CARTS)).toMatch(/ every 10 s +next 2026-03-04T10:17:30\.000Z /);
    expect(line(UPDATE_LOW_STOCK_ALERTS)).toMatch(/ every 30 min +next 2026-03-04T10:30:00\.000Z /);
  });
});

describe('jobs:run does the work, once, and jobs:list shows the default schedules (eager mode, injected clock)', () => {
  let smtp: SmtpSink;
  let t: TestApp;
  let now = new Date();
  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({
      env: { JOBS_EAGER: 'true', EMAIL_URL: smtp.url, SITE_URL, JWT_ACCESS_TTL: '1d' },
      clock: () => now,
    });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  /** Runs the job and waits for what it scheduled; returns what it printed. */
  async function run(name: string): Promise<string[]> {
    const out = captureOutput();
    await jobsRun(t.deps, out, name);
    await settleJobs(t.deps);
    return out.lines;
  }

  it('process_abandoned_carts: "1 reminder scheduled", the reminder sent from this process; again, "0" and nothing sent', async () => {
    await run(PROCESS_ABANDONED_CARTS); // whatever was due already is out of the way
    const customer = await signedInUser(t.app, t.deps);
    const { variant } = await makeVariant(t.deps, { price: '12.50', productName: 'Copper Kettle' });
    const added = await t.app.inject({
      method: 'POST',
      url: '/api/cart/items/',
      headers: customer.headers,
      payload: { variant: variant.id, quantity: 2 },
    });
    expect(added.statusCode).toBe(201);
    now = new Date(now.getTime() + 61 * MINUTE);

    expect(await run(PROCESS_ABANDONED_CARTS)).toEqual(['process_abandoned_carts: 1 reminder scheduled.']);
    const mails = smtp.messagesTo(customer.user.email);
    expect(mails).toHaveLength(1);
    const mail = mails[0]!;
    expect(mail.subject).toBe('You left something in your cart');
    for (const part of [mail.text ?? '', String(mail.html)]) {
      expect(part).toContain('Copper Kettle');
      expect(part).toContain(variant.sku);
      expect(part).toContain('25.00');
      expect(part).toContain(`${SITE_URL}/cart/`);
    }
    const [sent] = await t.deps.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.name, SEND_ABANDONED_CART_EMAIL), sql`${jobs.payload}->>'cart_id' IS NOT NULL`))
      .orderBy(sql`${jobs.id} DESC`)
      .limit(1);
    expect(sent).toMatchObject({ status: 'succeeded', result: 'sent' });

    expect(await run(PROCESS_ABANDONED_CARTS)).toEqual(['process_abandoned_carts: 0 reminders scheduled.']);
    now = new Date(now.getTime() + 61 * MINUTE);
    expect(await run(PROCESS_ABANDONED_CARTS)).toEqual(['process_abandoned_carts: 0 reminders scheduled.']);
    expect(smtp.messagesTo(customer.user.email)).toHaveLength(1);
  });

  it('update_low_stock_alerts: "1 variant alerted to N staff", one e-mail each; again, "0 variants" and nothing sent', async () => {
    const staff = await makeUser(t.deps, { isStaff: true });
    await run(UPDATE_LOW_STOCK_ALERTS); // whatever was low already is out of the way
    const activeStaff = (
      await t.deps.db
        .select({ n: sql<number>`cast(count(*) as integer)` })
        .from(users)
        .where(and(eq(users.isStaff, true), eq(users.isActive, true)))
    )[0]!.n;
    const { variant } = await makeVariant(t.deps, { stock: 3, productName: 'Enamel Mug', name: 'Teal' });

    expect(await run(UPDATE_LOW_STOCK_ALERTS)).toEqual([
      `update_low_stock_alerts: 1 variant alerted to ${activeStaff} staff.`,
    ]);
    const mails = smtp.messagesTo(staff.email).filter((m) => (m.text ?? '').includes(variant.sku));
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe('Low stock: 1 variant');
    for (const part of [mails[0]!.text ?? '', String(mails[0]!.html)]) {
      expect(part).toContain(`Enamel Mug — Teal (${variant.sku}): 3 left, threshold 5`);
    }

    expect(await run(UPDATE_LOW_STOCK_ALERTS)).toEqual([
      `update_low_stock_alerts: 0 variants alerted to ${activeStaff} staff.`,
    ]);
    expect(smtp.messagesTo(staff.email).filter((m) => (m.text ?? '').includes(variant.sku))).toHaveLength(1);
  });

  it('jobs:list: every job with its schedule, and for a periodic one the start of its next period', () => {
    const out = captureOutput();
    jobsList(t.deps, out, new Date('2026-03-04T10:17:23.456Z'));
    const line = (name: string) => out.lines.find((l) => l.startsWith(`${name} `));
    expect(line(PROCESS_ABANDONED_CARTS)).toMatch(/ every 1 h +next 2026-03-04T11:00:00\.000Z +\S/);
    expect(line(UPDATE_LOW_STOCK_ALERTS)).toMatch(/ every 30 min +next 2026-03-04T10:30:00\.000Z +\S/);
    expect(line('cancel_unpaid_orders')).toMatch(/ every 1 min +next 2026-03-04T10:18:00\.000Z /);
    for (const name of [SEND_ABANDONED_CART_EMAIL, SEND_LOW_STOCK_ALERT]) {
      expect(line(name)).toMatch(/ on demand /);
      expect(line(name)).not.toContain('next ');
    }
    expect(out.lines.at(-1)).toBe('Mode: eager (in the API process)');

    // On a boundary, that period has begun: the next one is a whole period later.
    const onBoundary = captureOutput();
    jobsList(t.deps, onBoundary, new Date('2026-03-04T10:30:00.000Z'));
    const at = (name: string) => onBoundary.lines.find((l) => l.startsWith(`${name} `));
    expect(at(UPDATE_LOW_STOCK_ALERTS)).toContain('next 2026-03-04T11:00:00.000Z');
    expect(at(PROCESS_ABANDONED_CARTS)).toContain('next 2026-03-04T11:00:00.000Z');
  });
});

describe('durationText', () => {
  it.each([
    [3_600_000, '1 h'],
    [7_200_000, '2 h'],
    [86_400_000, '24 h'],
    [1_800_000, '30 min'],
    [60_000, '1 min'],
    [90_000, '90 s'],
    [10_000, '10 s'],
    [1000, '1 s'],
    [1500, '1500 ms'],
  ])('%i ms is "%s"', (ms, text) => {
    expect(durationText(ms)).toBe(text);
  });
});

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('`cli.ts jobs:run` as a real process', () => {
  let database: TestDatabase;
  let dataDir: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = mkdtempSync(path.join(tmpdir(), 'nexus-jobs-run-'));
  });
  afterAll(async () => {
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /**
   * `node --import tsx src/cli.ts …`: eager (no REDIS_URL), on this file's database (PostgreSQL's
   * copy, or PGlite under DATA_DIR, shared by the runs), nothing about e-mail from outside.
   */
  function cli(args: string[]): Promise<CliResult> {
    const base: Record<string, string | undefined> = { ...process.env };
    for (const key of Object.keys(base)) {
      if (key.startsWith('EMAIL_') || ['DATABASE_URL', 'REDIS_URL', 'JOBS_EAGER'].includes(key)) {
        delete base[key];
      }
    }
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: ROOT,
      env: {
        ...base,
        NODE_ENV: 'test',
        SECRET_KEY: 's'.repeat(40),
        LOG_LEVEL: 'silent',
        DATA_DIR: dataDir,
        ...(database.url ? { DATABASE_URL: database.url } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS - 10_000);
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  it(
    '`jobs:run nope`: exit 1, the message names the periodic jobs; `jobs:run process_abandoned_carts`: exit 0 and what it did',
    async () => {
      const unknown = await cli(['jobs:run', 'nope']);
      expect(unknown.code).toBe(1);
      expect(unknown.stdout).toBe('');
      expect(unknown.stderr).toContain('There is no periodic job named nope.');
      for (const name of PERIODIC) expect(unknown.stderr).toContain(name);

      const known = await cli(['jobs:run', PROCESS_ABANDONED_CARTS]);
      expect(known.stderr).toBe('');
      expect(known.code).toBe(0);
      expect(known.stdout).toBe('process_abandoned_carts: 0 reminders scheduled.\n');
    },
    CLI_TIMEOUT_MS * 2,
  );
});
