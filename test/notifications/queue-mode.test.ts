/**
 * Issue 12, acceptance 3 (SPEC §9): in queue mode, on PostgreSQL and Redis, with three real worker
 * processes (`src/worker.ts`, each one scheduling the periodic jobs and running jobs from the queue)
 * and one-second periods (`ABANDONED_CART_INTERVAL`, `LOW_STOCK_INTERVAL`, `ABANDONED_CART_AFTER`):
 * - each periodic job runs once per period: one `jobs` row per `name@<period start>`, none missing,
 *   each run one attempt, however many schedulers, and a `jobs:run` in the middle is a row of its own
 *   (`name@manual:…`) that takes nothing from the period;
 * - each reminder is sent once per cart and change (one `notification_deliveries` row, one e-mail)
 *   and each alert once per staff user, also when `jobs:run` runs the same job three times at the
 *   moment the period's run starts.
 * The workers run with the real clock; the test lines its writes up with the period boundaries so
 * that the manual runs and the scheduled one start together.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { and, eq, inArray, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobsRun } from '../../src/commands/jobs.js';
import { carts } from '../../src/modules/cart/tables.js';
import { variants } from '../../src/modules/catalog/tables.js';
import {
  PROCESS_ABANDONED_CARTS,
  SEND_ABANDONED_CART_EMAIL,
} from '../../src/modules/notifications/abandoned-carts.js';
import { SEND_LOW_STOCK_ALERT, UPDATE_LOW_STOCK_ALERTS } from '../../src/modules/notifications/low-stock.js';
import { notificationDeliveries } from '../../src/modules/notifications/tables.js';
import { jobs } from '../../src/platform/jobs/tables.js';
import { makeUser, signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeVariant } from '../helpers/commerce.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { captureOutput } from '../helpers/output.js';
import { killGroup, run, type RunningProcess } from '../helpers/process.js';
import { deleteKeys } from '../helpers/redis.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js';
import { waitFor } from '../helpers/wait.js';

const realServices = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
const PERIOD_MS = 1000;
const WORKERS = 3;
const SITE_URL = 'https://shop.queue-mode.example';
const START_DEADLINE_MS = 90_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
/** Waits until `offsetMs` into a period (at least `minAheadMs` from now); returns that period's start. */
async function intoPeriod(offsetMs: number, minAheadMs = 0): Promise<number> {
  const earliest = Date.now() + minAheadMs;
  let start = Math.floor(earliest / PERIOD_MS) * PERIOD_MS;
  if (start + offsetMs < earliest) start += PERIOD_MS;
  await sleep(start + offsetMs - Date.now());
  return start;
}

describe.skipIf(!realServices)(
  'three worker processes on PostgreSQL and Redis, one-second periods (needs DATABASE_URL and REDIS_URL: the workers share them)',
  () => {
    let smtp: SmtpSink;
    let database: TestDatabase;
    let dataDir: string;
    let t: TestApp;
    const prefix = `test:notif-queue:${randomBytes(6).toString('hex')}:`;
    const workers: RunningProcess[] = [];
    /** When the last worker had started: from here on three processes schedule every period. */
    let allStartedAt = 0;

    const env = {
      JOBS_EAGER: 'false',
      ABANDONED_CART_INTERVAL: '1s',
      ABANDONED_CART_AFTER: '1s',
      LOW_STOCK_INTERVAL: '1s',
      SITE_URL,
    };

    beforeAll(async () => {
      smtp = await startSmtpSink();
      database = await createTestDatabase();
      dataDir = mkdtempSync(path.join(tmpdir(), 'nexus-notif-queue-'));
      for (let i = 0; i < WORKERS; i++) {
        workers.push(
          run('node', ['--import', 'tsx', 'src/worker.ts'], {
            ...env,
            NODE_ENV: 'test',
            SECRET_KEY: 'w'.repeat(40),
            DATA_DIR: dataDir,
            DATABASE_URL: database.url,
            REDIS_URL: process.env.REDIS_URL,
            REDIS_PREFIX: prefix,
            EMAIL_URL: smtp.url,
            EMAIL_HOST: undefined,
            EMAIL_HOST_USER: undefined,
            EMAIL_HOST_PASSWORD: undefined,
            JOB_POLL_INTERVAL: '200ms',
            LOG_LEVEL: 'info',
          }),
        );
      }
      t = await createTestApp({
        env: { ...env, EMAIL_URL: smtp.url },
        database,
        redisPrefix: prefix,
        runJobs: false,
      });
      for (const worker of workers) {
        await waitFor(
          () => {
            if (worker.child.exitCode !== null) throw new Error(`a worker exited early:\n${worker.output()}`);
            return worker.output().includes('"msg":"worker started"');
          },
          START_DEADLINE_MS,
          'a worker to start',
        );
      }
      allStartedAt = Date.now();
    }, START_DEADLINE_MS + 30_000);

    afterAll(async () => {
      await Promise.all(
        workers.map(async (worker) => {
          worker.child.kill('SIGTERM');
          await Promise.race([worker.exited, sleep(15_000)]);
          killGroup(worker);
        }),
      );
      await t?.close();
      if (process.env.REDIS_URL) await deleteKeys(process.env.REDIS_URL, prefix);
      await database?.drop();
      await smtp?.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }, 60_000);

    /** The `jobs` rows of these names, oldest first. */
    const rowsOf = (...names: string[]) =>
      t.deps.db.select().from(jobs).where(inArray(jobs.name, names)).orderBy(jobs.id);

    /**
     * Waits until a worker has recorded the scheduled run of `name` for the period starting at
     * `periodStart` (it is handed to the queue at once): the moment to start `jobs:run` with it.
     */
    async function scheduledRunOf(name: string, periodStart: number): Promise<void> {
      const key = `${name}@${new Date(periodStart).toISOString()}`;
      await sleep(periodStart - Date.now());
      const deadline = Date.now() + 10_000;
      while (
        (await t.deps.db.select({ id: jobs.id }).from(jobs).where(eq(jobs.uniqueKey, key))).length === 0
      ) {
        if (Date.now() > deadline) throw new Error(`no worker scheduled ${key}`);
        await sleep(5);
      }
    }

    it('each periodic job runs once per period, however many schedulers; a jobs:run meanwhile is a row of its own', async () => {
      // A window of whole periods, all of them scheduled by the three workers.
      const first = Math.ceil(Math.max(allStartedAt, Date.now()) / PERIOD_MS) * PERIOD_MS + PERIOD_MS;
      const periods = Array.from({ length: 5 }, (_, i) => first + i * PERIOD_MS);
      await sleep(first + 2 * PERIOD_MS + 100 - Date.now());
      // In the middle of the window, an extra run of each: neither takes a period's run nor is refused.
      const manual = await Promise.all(
        [PROCESS_ABANDONED_CARTS, UPDATE_LOW_STOCK_ALERTS].map((name) =>
          jobsRun(t.deps, captureOutput(), name),
        ),
      );
      const last = periods.at(-1)! + PERIOD_MS;
      await sleep(last - Date.now());

      for (const name of [PROCESS_ABANDONED_CARTS, UPDATE_LOW_STOCK_ALERTS]) {
        const keys = periods.map((p) => `${name}@${new Date(p).toISOString()}`);
        const inWindow = async () =>
          t.deps.db
            .select()
            .from(jobs)
            .where(and(eq(jobs.name, name), inArray(jobs.uniqueKey, keys)));
        await waitFor(
          async () => {
            const rows = await inWindow();
            return rows.length === keys.length && rows.every((r) => r.status === 'succeeded');
          },
          15_000,
          `a finished run of ${name} for each of the five periods`,
        );
        const rows = await inWindow();
        // One row per period (the unique key), none missing, each run once.
        expect(rows.map((r) => r.uniqueKey).sort()).toEqual(keys);
        for (const row of rows)
          expect(row).toMatchObject({ status: 'succeeded', attempts: 1, lastError: null });

        // Every scheduled row of this job, in or out of the window, is one per period, at a period start.
        const scheduled = (await rowsOf(name)).filter((r) => !r.uniqueKey!.includes('@manual:'));
        for (const row of scheduled) {
          const at = Date.parse(row.uniqueKey!.slice(name.length + 1));
          expect(at % PERIOD_MS, row.uniqueKey!).toBe(0);
        }
        expect(new Set(scheduled.map((r) => r.uniqueKey)).size).toBe(scheduled.length);
        expect(scheduled.every((r) => r.uniqueKey!.startsWith(`${name}@`))).toBe(true);
      }
      for (const row of manual) {
        expect(row.uniqueKey).toMatch(new RegExp(`^${row.name}@manual:`));
        expect(row).toMatchObject({ status: 'succeeded', attempts: 1 });
      }
    }, 40_000);

    it('each reminder is sent once per cart and change, also when jobs:run runs at the moment of the scheduled run', async () => {
      const owners = await Promise.all(Array.from({ length: 4 }, () => signedInUser(t.app, t.deps)));
      const items = await Promise.all(
        owners.map((_, i) => makeVariant(t.deps, { price: '4.00', productName: `Queue Teapot ${i}` })),
      );
      const cartOf = async (userId: number) =>
        (await t.deps.db.select({ id: carts.id }).from(carts).where(eq(carts.userId, userId)))[0]!.id;
      const add = async (i: number, quantity: number) => {
        const res = await t.app.inject({
          method: 'POST',
          url: '/api/cart/items/',
          headers: owners[i]!.headers,
          payload: { variant: items[i]!.variant.id, quantity },
        });
        expect(res.statusCode).toBe(201);
      };

      /**
       * The carts are changed early in a period P, so they are idle (1 s) from P + 1 s on; at P + 2 s
       * the scheduled run of that period starts, and three `jobs:run` start as soon as a worker has
       * recorded it.
       */
      async function raceAt(change: () => Promise<void>): Promise<string[]> {
        const period = await intoPeriod(300);
        await change();
        await scheduledRunOf(PROCESS_ABANDONED_CARTS, period + 2 * PERIOD_MS);
        const outs = [captureOutput(), captureOutput(), captureOutput()];
        const rows = await Promise.all(outs.map((out) => jobsRun(t.deps, out, PROCESS_ABANDONED_CARTS)));
        for (const row of rows) {
          expect(row.uniqueKey).toMatch(/^process_abandoned_carts@manual:/);
          expect(row.status).toBe('succeeded');
        }
        return outs.flatMap((out) => out.lines);
      }

      const deliveriesOf = async (cartId: string) =>
        t.deps.db
          .select()
          .from(notificationDeliveries)
          .where(like(notificationDeliveries.key, `abandoned-cart:${cartId}:%`));
      const emailJobsOf = async (cartId: string) =>
        (await rowsOf(SEND_ABANDONED_CART_EMAIL)).filter((r) => r.payload.cart_id === cartId);

      /** Each cart has had `expected[i]` reminders, and keeps that through two more periods. */
      async function expectReminders(cartIds: string[], expected: number[]) {
        await waitFor(
          async () => {
            for (const [i, cartId] of cartIds.entries()) {
              const sent = await emailJobsOf(cartId);
              if (sent.length < expected[i]! || sent.some((r) => r.status !== 'succeeded')) return false;
            }
            return owners.every((o, i) => smtp.messagesTo(o.user.email).length >= expected[i]!);
          },
          15_000,
          'the reminders to be sent',
        );
        await sleep(2 * PERIOD_MS + 500); // two more scheduled runs: nothing new is due
        for (const [i, cartId] of cartIds.entries()) {
          const sent = await emailJobsOf(cartId);
          expect(sent, `reminder jobs of cart ${i}`).toHaveLength(expected[i]!);
          expect(sent.every((r) => r.status === 'succeeded' && r.result === 'sent')).toBe(true);
          expect(new Set(sent.map((r) => r.payload.changed_at)).size).toBe(expected[i]!);
          const deliveries = await deliveriesOf(cartId);
          expect(deliveries, `deliveries of cart ${i}`).toHaveLength(expected[i]!);
          expect(deliveries.map((d) => d.key).sort()).toEqual(
            sent.map((r) => `abandoned-cart:${cartId}:${String(r.payload.changed_at)}`).sort(),
          );
          const mails = smtp.messagesTo(owners[i]!.user.email);
          expect(mails, `e-mails to the owner of cart ${i}`).toHaveLength(expected[i]!);
          for (const mail of mails) {
            expect(mail.subject).toBe('You left something in your cart');
            for (const part of [mail.text ?? '', String(mail.html)]) {
              expect(part).toContain(`Queue Teapot ${i}`);
              expect(part).toContain(items[i]!.variant.sku);
              expect(part).toContain(`${SITE_URL}/cart/`);
            }
          }
        }
      }

      const printed = await raceAt(async () => {
        for (let i = 0; i < owners.length; i++) await add(i, 1);
      });
      for (const line of printed)
        expect(line).toMatch(/^process_abandoned_carts: \d+ reminders? scheduled\.$/);
      const cartIds = await Promise.all(owners.map((o) => cartOf(o.user.id)));
      await expectReminders(cartIds, [1, 1, 1, 1]);
      const reminded = await t.deps.db.select().from(carts).where(inArray(carts.id, cartIds));
      // Each cart records the change it was reminded of.
      for (const cart of reminded) expect(cart.remindedAt!.getTime()).toBe(cart.updatedAt.getTime());

      // The first cart changes after its reminder: one more, for that change only, also in a race.
      await raceAt(() => add(0, 2));
      await expectReminders(cartIds, [2, 1, 1, 1]);
      const second = smtp.messagesTo(owners[0]!.user.email)[1]!;
      expect(second.text).toContain('3 × Queue Teapot 0');

      // And a jobs:run now finds nothing left to remind of.
      const out = captureOutput();
      await jobsRun(t.deps, out, PROCESS_ABANDONED_CARTS);
      expect(out.lines).toEqual(['process_abandoned_carts: 0 reminders scheduled.']);
    }, 60_000);

    it('each low-stock alert is sent once to every active staff user, also when jobs:run runs at the moment of the scheduled run', async () => {
      const staff = await Promise.all([
        makeUser(t.deps, { isStaff: true }),
        makeUser(t.deps, { isStaff: true }),
      ]);
      const inactiveStaff = await makeUser(t.deps, { isStaff: true, isActive: false });
      const customer = await makeUser(t.deps);

      // Low just before a period starts; at its start the scheduled run and three jobs:run race
      // (started as soon as a worker has recorded the period's run).
      const period = await intoPeriod(700, 200);
      const low: Array<Awaited<ReturnType<typeof makeVariant>>['variant']> = [];
      for (const stock of [2, 0, 5])
        low.push((await makeVariant(t.deps, { stock, productName: 'Queue Kettle' })).variant);
      const fine = (await makeVariant(t.deps, { stock: 6, productName: 'Queue Kettle' })).variant;
      await scheduledRunOf(UPDATE_LOW_STOCK_ALERTS, period + PERIOD_MS);
      const outs = [captureOutput(), captureOutput(), captureOutput()];
      const manual = await Promise.all(outs.map((out) => jobsRun(t.deps, out, UPDATE_LOW_STOCK_ALERTS)));
      for (const row of manual) expect(row.uniqueKey).toMatch(/^update_low_stock_alerts@manual:/);
      for (const line of outs.flatMap((o) => o.lines)) {
        expect(line).toMatch(/^update_low_stock_alerts: \d+ variants? alerted to \d+ staff\.$/);
      }

      const skus = low.map((v) => v.sku);
      const mailsTo = (email: string) =>
        smtp.messagesTo(email).filter((m) => skus.some((sku) => (m.text ?? '').includes(sku)));
      const alertJobs = async () =>
        (await rowsOf(SEND_LOW_STOCK_ALERT)).filter((r) =>
          (r.payload.variants as Array<{ sku: string }>).some((v) => skus.includes(v.sku)),
        );
      const everySkuOnce = (email: string) =>
        skus.every((sku) => mailsTo(email).filter((m) => (m.text ?? '').includes(sku)).length === 1);
      await waitFor(
        async () =>
          staff.every((s) => everySkuOnce(s.email)) &&
          (await alertJobs()).every((r) => r.status === 'succeeded'),
        15_000,
        'the alerts to reach both staff users',
      );
      await sleep(2 * PERIOD_MS + 500); // two more scheduled runs: nothing new is low

      const sent = await alertJobs();
      const alerts = new Set(sent.map((r) => r.payload.alert as string));
      // One job and one delivery per alert and staff user, one e-mail each; every SKU in one alert only.
      expect(sent).toHaveLength(alerts.size * staff.length);
      expect(sent.every((r) => r.result === 'sent')).toBe(true);
      expect(new Set(sent.map((r) => r.payload.user_id)).size).toBe(staff.length);
      const deliveries = await t.deps.db
        .select()
        .from(notificationDeliveries)
        .where(
          inArray(
            notificationDeliveries.key,
            sent.map((r) => `low-stock:${String(r.payload.alert)}:${String(r.payload.user_id)}`),
          ),
        );
      expect(deliveries).toHaveLength(sent.length);
      for (const member of staff) {
        const mails = mailsTo(member.email);
        expect(mails).toHaveLength(alerts.size);
        for (const sku of skus) expect(mails.filter((m) => (m.text ?? '').includes(sku))).toHaveLength(1);
        for (const mail of mails) {
          expect(mail.subject).toMatch(/^Low stock: \d+ variants?$/);
          for (const part of [mail.text ?? '', String(mail.html)]) expect(part).not.toContain(fine.sku);
        }
        const parts = mails.map((m) => [m.text ?? '', String(m.html)].join('\n')).join('\n');
        for (const [i, variant] of low.entries()) {
          expect(parts).toContain(
            `Queue Kettle — ${variant.name} (${variant.sku}): ${[2, 0, 5][i]} left, threshold 5`,
          );
        }
      }
      expect(smtp.messagesTo(inactiveStaff.email)).toHaveLength(0);
      expect(smtp.messagesTo(customer.email)).toHaveLength(0);

      const flags = await t.deps.db
        .select({ sku: variants.sku, alerted: variants.lowStockAlerted })
        .from(variants)
        .where(inArray(variants.sku, [...skus, fine.sku]));
      expect(Object.fromEntries(flags.map((f) => [f.sku, f.alerted]))).toEqual({
        ...Object.fromEntries(skus.map((sku) => [sku, true])),
        [fine.sku]: false,
      });

      // And a jobs:run now finds nothing new.
      const out = captureOutput();
      await jobsRun(t.deps, out, UPDATE_LOW_STOCK_ALERTS);
      expect(out.lines).toEqual([`update_low_stock_alerts: 0 variants alerted to ${staff.length} staff.`]);
    }, 60_000);
  },
);
