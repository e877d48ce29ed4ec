/**
 * Issue 12, acceptance 1 (SPEC §9 `process_abandoned_carts` / `send_abandoned_cart_email`), with the
 * clock injected and a real SMTP sink: a cart with lines untouched for `ABANDONED_CART_AFTER` gets
 * exactly one reminder (nothing a second before; one job, then one e-mail to its owner with the
 * lines, the total, the `SITE_URL/cart/` link and `SHOP_NAME`, in the text and the HTML part);
 * running the job again sends nothing; each change (an add, a quantity change) followed by another
 * wait gets one more; a cart that is empty (never filled, emptied by a removal or by checkout) or
 * whose owner is inactive gets none, and a reactivated owner is reminded; two runs at the same
 * moment remind each cart once; a reminder whose cart changed before its e-mail went out sends
 * nothing and the new change is reminded of later; the job reports "N reminders scheduled" (its
 * row's `result`, and `jobs:run`'s output); and the two settings take 1 s but not less.
 *
 * The database is shared by the tests of this file and the job walks every cart, so each test
 * asserts on its own carts and owners; the tests that count a whole run first let every earlier
 * cart come due and be reminded ("drain"), so the count is theirs alone. The clock only moves ahead.
 */
import { tmpdir } from 'node:os';
import path from 'node:path';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { jobsRun } from '../../src/commands/jobs.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { users } from '../../src/modules/accounts/tables.js';
import {
  processAbandonedCarts,
  PROCESS_ABANDONED_CARTS,
  SEND_ABANDONED_CART_EMAIL,
} from '../../src/modules/notifications/abandoned-carts.js';
import { findJob } from '../../src/platform/jobs/store.js';
import { jobs } from '../../src/platform/jobs/tables.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, testConfig, type TestApp } from '../helpers/app.js';
import { makeVariant, placeOrder } from '../helpers/commerce.js';
import { settleJobs } from '../helpers/jobs.js';
import { captureOutput } from '../helpers/output.js';
import { recipientsOf, startSmtpSink, type SmtpSink } from '../helpers/smtp.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const AFTER_MS = 20 * MINUTE;
const SHOP_NAME = 'Quokka Curios Emporium';
const SITE_URL = 'https://quokka-curios.example.test';
const CART_LINK = `${SITE_URL}/cart/`;
const SUBJECT = 'You left something in your cart';

type Customer = Awaited<ReturnType<typeof signedInUser>>;
type CartAnswer = {
  id: string;
  items: Array<{ id: string; quantity: number; line_total: string; variant: { sku: string } }>;
  total_amount: string;
  updated_at: string;
};

describe('abandoned-cart reminders', () => {
  let smtp: SmtpSink;
  let t: TestApp;
  let staff: Customer;
  /** The application's clock; only ever moved ahead. */
  let now = new Date();
  const advance = (ms: number) => {
    now = new Date(now.getTime() + ms);
  };

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({
      clock: () => now,
      env: {
        EMAIL_URL: smtp.url,
        SHOP_NAME,
        SITE_URL,
        ABANDONED_CART_AFTER: '20m',
        ABANDONED_CART_INTERVAL: '5m',
        // Access tokens are checked against the injected clock: they outlive its jumps.
        JWT_ACCESS_TTL: '30d',
        TAX_RATE: '0',
        SHIPPING_FLAT_RATE: '4.00',
        FREE_SHIPPING_THRESHOLD: '1000.00',
      },
    });
    staff = await signedInUser(t.app, t.deps, { isStaff: true });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  const customer = () => signedInUser(t.app, t.deps);
  const cart = (c: Customer) => ({
    get: () => t.app.inject({ method: 'GET', url: '/api/cart/', headers: c.headers }),
    add: (variant: string, quantity: number) =>
      t.app.inject({
        method: 'POST',
        url: '/api/cart/items/',
        headers: c.headers,
        payload: { variant, quantity },
      }),
    change: (line: string, quantity: number) =>
      t.app.inject({
        method: 'PATCH',
        url: `/api/cart/items/${line}/`,
        headers: c.headers,
        payload: { quantity },
      }),
    remove: (line: string) =>
      t.app.inject({ method: 'DELETE', url: `/api/cart/items/${line}/`, headers: c.headers }),
  });
  /** Adds a line through the API and answers the whole cart. */
  const addLine = async (c: Customer, variant: string, quantity: number): Promise<CartAnswer> => {
    const res = await cart(c).add(variant, quantity);
    expect(res.statusCode).toBe(201);
    return res.json<CartAnswer>();
  };
  const setActive = async (c: Customer, isActive: boolean) => {
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/api/users/${c.user.id}/`,
      headers: staff.headers,
      payload: { is_active: isActive },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ is_active: boolean }>().is_active).toBe(isActive);
  };

  /** The `send_abandoned_cart_email` jobs scheduled for this cart, oldest first. */
  const reminderJobs = (cartId: string) =>
    t.deps.db
      .select({ id: jobs.id, payload: jobs.payload, status: jobs.status, result: jobs.result })
      .from(jobs)
      .where(and(eq(jobs.name, SEND_ABANDONED_CART_EMAIL), sql`${jobs.payload}->>'cart_id' = ${cartId}`))
      .orderBy(asc(jobs.id));
  /** The reminders this customer received, in arrival order. */
  const remindersTo = (c: Customer) => smtp.messagesTo(c.user.email).filter((m) => m.subject === SUBJECT);
  /** One run of the job's work, then every e-mail job it scheduled run to the end. */
  const sweep = async () => {
    const n = await processAbandonedCarts(t.deps);
    await settleJobs(t.deps);
    return n;
  };
  /** Lets every cart changed so far come due and be reminded, so a later run counts only new carts. */
  const drain = async () => {
    await settleJobs(t.deps);
    advance(AFTER_MS + SECOND);
    await sweep();
    expect(await processAbandonedCarts(t.deps)).toBe(0);
  };

  /** The line of a part (text, or an HTML paragraph) that names this SKU. */
  const lineNaming = (part: string, sku: string) => {
    const line = part.split('\n').find((l) => l.includes(sku));
    if (!line) throw new Error(`no line naming ${sku} in:\n${part}`);
    return line;
  };
  const parts = (mail: ParsedMail) => [mail.text ?? '', String(mail.html)];

  it('reminds a cart untouched past ABANDONED_CART_AFTER exactly once, with its lines, total, link and shop name', async () => {
    const c = await customer();
    const { variant } = await makeVariant(t.deps, {
      productName: 'Brass Telescope',
      name: 'Pocket Edition',
      price: '12.50',
    });
    const added = await addLine(c, variant.id, 2);
    expect(added.items).toHaveLength(1);
    expect(added.items[0]!.line_total).toBe('25.00');
    expect(added.total_amount).toBe('29.00');

    advance(AFTER_MS - SECOND);
    await sweep();
    expect(await reminderJobs(added.id)).toHaveLength(0);
    expect(remindersTo(c)).toHaveLength(0);

    advance(2 * SECOND);
    await processAbandonedCarts(t.deps);
    const scheduled = await reminderJobs(added.id);
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]!.payload).toEqual({ cart_id: added.id, changed_at: added.updated_at });
    await settleJobs(t.deps);
    expect(await reminderJobs(added.id)).toMatchObject([{ status: 'succeeded', result: 'sent' }]);

    const mails = remindersTo(c);
    expect(mails).toHaveLength(1);
    const mail = mails[0]!;
    expect(recipientsOf(mail)).toEqual([c.user.email.toLowerCase()]);
    expect(mail.subject).toBe(SUBJECT);
    expect(mail.html).toBeTruthy();
    for (const part of parts(mail)) {
      expect(part).toContain(`Hello ${c.user.firstName},`);
      const line = lineNaming(part, variant.sku);
      expect(line).toContain('Brass Telescope');
      expect(line).toContain('Pocket Edition');
      expect(line).toMatch(/(^|\D)2 ×/);
      expect(line).toContain('25.00');
      expect(part).toContain('Total 29.00');
      expect(part).toContain(CART_LINK);
      expect(part).toContain(`— ${SHOP_NAME}`);
    }
    expect(String(mail.html)).toContain(`href="${CART_LINK}"`);
    expect(mail.text!.trimEnd().endsWith(`— ${SHOP_NAME}`)).toBe(true);

    // Running the job again, now and much later, schedules and sends nothing more.
    expect(await sweep()).toBe(0);
    advance(3 * AFTER_MS);
    await sweep();
    expect(await reminderJobs(added.id)).toHaveLength(1);
    expect(remindersTo(c)).toHaveLength(1);
  });

  it('reminds once more after each change (an add, a quantity change) and another wait', async () => {
    const c = await customer();
    const a = await makeVariant(t.deps, { productName: 'Cedar Birdhouse', name: 'Small', price: '8.00' });
    const b = await makeVariant(t.deps, { productName: 'Linen Apron', name: 'Olive', price: '15.00' });
    const first = await addLine(c, a.variant.id, 1);
    advance(AFTER_MS + SECOND);
    await sweep();
    expect(await reminderJobs(first.id)).toHaveLength(1);
    expect(remindersTo(c)).toHaveLength(1);

    // Another add, a moment later: not due until it, too, is ABANDONED_CART_AFTER old.
    advance(SECOND);
    const second = await addLine(c, b.variant.id, 3);
    expect(second.id).toBe(first.id);
    await sweep();
    advance(AFTER_MS - SECOND);
    await sweep();
    expect(await reminderJobs(first.id)).toHaveLength(1);
    advance(2 * SECOND);
    await sweep();
    const afterAdd = await reminderJobs(first.id);
    expect(afterAdd).toHaveLength(2);
    expect(afterAdd[1]!.payload).toEqual({ cart_id: first.id, changed_at: second.updated_at });
    expect(remindersTo(c)).toHaveLength(2);
    for (const part of parts(remindersTo(c)[1]!)) {
      expect(lineNaming(part, a.variant.sku)).toContain('8.00');
      const line = lineNaming(part, b.variant.sku);
      expect(line).toContain('Linen Apron');
      expect(line).toMatch(/(^|\D)3 ×/);
      expect(line).toContain('45.00');
      expect(part).toContain(`Total ${second.total_amount}`);
    }
    expect(second.total_amount).toBe('57.00');

    // A quantity change.
    const lineA = second.items.find((l) => l.variant.sku === a.variant.sku)!;
    advance(SECOND);
    const changed = await cart(c).change(lineA.id, 5);
    expect(changed.statusCode).toBe(200);
    const third = changed.json<CartAnswer>();
    advance(AFTER_MS + SECOND);
    await sweep();
    const afterChange = await reminderJobs(first.id);
    expect(afterChange).toHaveLength(3);
    expect(afterChange[2]!.payload).toEqual({ cart_id: first.id, changed_at: third.updated_at });
    const mails = remindersTo(c);
    expect(mails).toHaveLength(3);
    for (const part of parts(mails[2]!)) {
      const line = lineNaming(part, a.variant.sku);
      expect(line).toMatch(/(^|\D)5 ×/);
      expect(line).toContain('40.00');
      expect(part).toContain('Total 89.00');
    }

    // And nothing more until the next change.
    advance(3 * AFTER_MS);
    await sweep();
    expect(await reminderJobs(first.id)).toHaveLength(3);
    expect(remindersTo(c)).toHaveLength(3);
  });

  it('reminds of a change made at the very instant of the run that reminded the one before', async () => {
    // As a change served by an API process whose clock is a little behind the worker's would be.
    const c = await customer();
    const { variant } = await makeVariant(t.deps);
    const first = await addLine(c, variant.id, 1);
    advance(AFTER_MS + SECOND);
    await sweep();
    expect(remindersTo(c)).toHaveLength(1);
    const res = await cart(c).change(first.items[0]!.id, 2);
    expect(res.statusCode).toBe(200);
    const changed = res.json<CartAnswer>();
    expect(changed.updated_at).toBe(now.toISOString());
    advance(AFTER_MS + SECOND);
    await sweep();
    const scheduled = await reminderJobs(first.id);
    expect(scheduled).toHaveLength(2);
    expect(scheduled[1]!.payload).toEqual({ cart_id: first.id, changed_at: changed.updated_at });
    expect(remindersTo(c)).toHaveLength(2);
  });

  it('reminds no empty cart: never filled, emptied by removing its line, or emptied by checkout', async () => {
    const never = await customer();
    const removed = await customer();
    const checkedOut = await customer();
    const { variant } = await makeVariant(t.deps, { stock: 10 });

    const neverCart = await cart(never).get();
    expect(neverCart.statusCode).toBe(200);
    expect(neverCart.json<CartAnswer>().items).toHaveLength(0);

    const removedCart = await addLine(removed, variant.id, 1);
    const afterRemoval = await cart(removed).remove(removedCart.items[0]!.id);
    expect(afterRemoval.statusCode).toBe(200);
    expect(afterRemoval.json<CartAnswer>().items).toHaveLength(0);

    const checkedOutCart = await addLine(checkedOut, variant.id, 2);
    const order = await placeOrder(t.app, checkedOut.headers);
    expect(order.statusCode).toBe(201);
    const afterCheckout = await cart(checkedOut).get();
    expect(afterCheckout.json<CartAnswer>()).toMatchObject({ id: checkedOutCart.id, items: [] });

    advance(AFTER_MS + SECOND);
    await sweep();
    advance(3 * AFTER_MS);
    await sweep();
    for (const [c, cartId] of [
      [never, neverCart.json<CartAnswer>().id],
      [removed, removedCart.id],
      [checkedOut, checkedOutCart.id],
    ] as const) {
      expect(await reminderJobs(cartId)).toHaveLength(0);
      expect(remindersTo(c)).toHaveLength(0);
    }
  });

  it('skips a cart whose owner is inactive (deactivated by staff or in the database), and reminds once reactivated', async () => {
    const byStaff = await customer();
    const inDb = await customer();
    const { variant } = await makeVariant(t.deps);
    const staffCart = await addLine(byStaff, variant.id, 1);
    const dbCart = await addLine(inDb, variant.id, 1);
    await setActive(byStaff, false);
    await t.deps.db.update(users).set({ isActive: false }).where(eq(users.id, inDb.user.id));

    advance(AFTER_MS + SECOND);
    await sweep();
    advance(AFTER_MS);
    await sweep();
    for (const [c, cartId] of [
      [byStaff, staffCart.id],
      [inDb, dbCart.id],
    ] as const) {
      expect(await reminderJobs(cartId)).toHaveLength(0);
      expect(remindersTo(c)).toHaveLength(0);
    }

    await setActive(byStaff, true);
    await t.deps.db.update(users).set({ isActive: true }).where(eq(users.id, inDb.user.id));
    await sweep();
    for (const [c, cartId] of [
      [byStaff, staffCart.id],
      [inDb, dbCart.id],
    ] as const) {
      expect(await reminderJobs(cartId)).toMatchObject([{ status: 'succeeded', result: 'sent' }]);
      expect(remindersTo(c)).toHaveLength(1);
    }
    await sweep();
    expect(remindersTo(byStaff)).toHaveLength(1);
    expect(remindersTo(inDb)).toHaveLength(1);
  });

  it('reminds each cart once when two runs start at the same moment', async () => {
    await drain();
    const owners = await Promise.all([customer(), customer(), customer()]);
    const { variant } = await makeVariant(t.deps);
    const carts = [];
    for (const c of owners) carts.push(await addLine(c, variant.id, 1));
    advance(AFTER_MS + SECOND);

    const [a, b] = await Promise.all([processAbandonedCarts(t.deps), processAbandonedCarts(t.deps)]);
    expect(a + b).toBe(3);
    await settleJobs(t.deps);
    for (const [i, c] of owners.entries()) {
      expect(await reminderJobs(carts[i]!.id)).toMatchObject([{ status: 'succeeded', result: 'sent' }]);
      expect(remindersTo(c)).toHaveLength(1);
    }
  });

  describe('a reminder whose e-mail has not gone out yet', () => {
    /** Holds every job in the outbox (nothing is handed over or run) while `work` runs. */
    const withJobsHeld = async (work: () => Promise<void>) => {
      await settleJobs(t.deps);
      const kick = vi.spyOn(t.deps.jobs, 'kick').mockImplementation(() => {});
      try {
        await work();
      } finally {
        kick.mockRestore();
      }
      t.deps.jobs.kick();
      await settleJobs(t.deps);
    };

    it('sends nothing when the cart changed meanwhile, and the new change gets its own reminder later', async () => {
      const c = await customer();
      const { variant } = await makeVariant(t.deps, { productName: 'Copper Kettle', price: '30.00' });
      const added = await addLine(c, variant.id, 1);
      advance(AFTER_MS + SECOND);

      let changed: CartAnswer | undefined;
      await withJobsHeld(async () => {
        await processAbandonedCarts(t.deps);
        const held = await reminderJobs(added.id);
        expect(held).toMatchObject([{ status: 'pending', payload: { changed_at: added.updated_at } }]);
        advance(SECOND);
        const res = await cart(c).change(added.items[0]!.id, 2);
        expect(res.statusCode).toBe(200);
        changed = res.json<CartAnswer>();
      });
      expect(await reminderJobs(added.id)).toMatchObject([
        { status: 'succeeded', result: 'nothing to send' },
      ]);
      expect(remindersTo(c)).toHaveLength(0);

      advance(AFTER_MS - SECOND);
      await sweep();
      expect(await reminderJobs(added.id)).toHaveLength(1);
      advance(2 * SECOND);
      await sweep();
      const after = await reminderJobs(added.id);
      expect(after).toHaveLength(2);
      expect(after[1]).toMatchObject({
        status: 'succeeded',
        result: 'sent',
        payload: { cart_id: added.id, changed_at: changed!.updated_at },
      });
      const mails = remindersTo(c);
      expect(mails).toHaveLength(1);
      for (const part of parts(mails[0]!)) {
        const line = lineNaming(part, variant.sku);
        expect(line).toMatch(/(^|\D)2 ×/);
        expect(line).toContain('60.00');
        expect(part).toContain('Total 64.00');
      }
    });

    it('sends nothing when the owner was deactivated meanwhile', async () => {
      const c = await customer();
      const { variant } = await makeVariant(t.deps);
      const added = await addLine(c, variant.id, 1);
      advance(AFTER_MS + SECOND);
      await withJobsHeld(async () => {
        await processAbandonedCarts(t.deps);
        expect(await reminderJobs(added.id)).toMatchObject([{ status: 'pending' }]);
        await setActive(c, false);
      });
      expect(await reminderJobs(added.id)).toMatchObject([
        { status: 'succeeded', result: 'nothing to send' },
      ]);
      expect(remindersTo(c)).toHaveLength(0);
    });
  });

  it('reports how many reminders a run scheduled, in its job row and through jobs:run', async () => {
    const definition = t.deps.jobs.registry.get(PROCESS_ABANDONED_CARTS);
    expect(definition?.everyMs).toBe(5 * MINUTE);
    expect(t.deps.jobs.registry.periodic().map((d) => d.name)).not.toContain(SEND_ABANDONED_CART_EMAIL);

    await drain();
    const pair = await Promise.all([customer(), customer()]);
    const { variant } = await makeVariant(t.deps);
    const pairCarts = [];
    for (const c of pair) pairCarts.push(await addLine(c, variant.id, 1));
    advance(AFTER_MS + SECOND);

    const id = await t.deps.jobs.runNow(PROCESS_ABANDONED_CARTS);
    await settleJobs(t.deps);
    expect(await findJob(t.deps.db, id)).toMatchObject({
      status: 'succeeded',
      result: '2 reminders scheduled',
    });
    for (const [i, c] of pair.entries()) {
      expect(await reminderJobs(pairCarts[i]!.id)).toHaveLength(1);
      expect(remindersTo(c)).toHaveLength(1);
    }

    const again = captureOutput();
    await jobsRun(t.deps, again, PROCESS_ABANDONED_CARTS);
    expect(again.lines).toEqual([`${PROCESS_ABANDONED_CARTS}: 0 reminders scheduled.`]);

    const single = await customer();
    const singleCart = await addLine(single, variant.id, 4);
    advance(AFTER_MS + SECOND);
    const out = captureOutput();
    const row = await jobsRun(t.deps, out, PROCESS_ABANDONED_CARTS);
    expect(out.lines).toEqual([`${PROCESS_ABANDONED_CARTS}: 1 reminder scheduled.`]);
    expect(row.result).toBe('1 reminder scheduled');
    await settleJobs(t.deps);
    expect(await reminderJobs(singleCart.id)).toHaveLength(1);
    expect(remindersTo(single)).toHaveLength(1);
    for (const c of pair) expect(remindersTo(c)).toHaveLength(1);
  });

  it('reminds each of a dozen carts due at once (more than one batch of e-mail jobs) once', async () => {
    const owners = await Promise.all(Array.from({ length: 12 }, () => customer()));
    const { variant } = await makeVariant(t.deps);
    const carts = [];
    for (const c of owners) carts.push(await addLine(c, variant.id, 1));
    advance(AFTER_MS + SECOND);
    await processAbandonedCarts(t.deps);
    await settleJobs(t.deps, 20_000);
    for (const [i, c] of owners.entries()) {
      expect(await reminderJobs(carts[i]!.id)).toMatchObject([{ status: 'succeeded', result: 'sent' }]);
      expect(remindersTo(c)).toHaveLength(1);
    }
  });
});

describe('abandoned-cart settings', () => {
  const DATA_DIR = path.join(tmpdir(), 'nexus-abandoned-carts-config');

  it('take durations down to 1 s', () => {
    const config = testConfig({ DATA_DIR, ABANDONED_CART_AFTER: '1s', ABANDONED_CART_INTERVAL: '1s' });
    expect(config.notifications.abandonedCartAfterMs).toBe(1000);
    expect(config.notifications.abandonedCartIntervalMs).toBe(1000);
  });

  it('default to 1 h each', () => {
    const config = testConfig({ DATA_DIR });
    expect(config.notifications.abandonedCartAfterMs).toBe(3_600_000);
    expect(config.notifications.abandonedCartIntervalMs).toBe(3_600_000);
  });

  it.each(['ABANDONED_CART_AFTER', 'ABANDONED_CART_INTERVAL'])('refuse %s=500ms, naming it', (name) => {
    const load = () =>
      loadConfig({
        NODE_ENV: 'test',
        DATA_DIR,
        SECRET_KEY: 'test-secret-key-that-is-long-enough-0123456789',
        [name]: '500ms',
      });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(new RegExp(name));
  });
});
