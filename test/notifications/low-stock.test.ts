/**
 * Issue 12, acceptance 2 (SPEC §9 `update_low_stock_alerts`): a variant whose stock drops to its
 * `low_stock_threshold` through an order gets one e-mail to every active staff user (not an inactive
 * one, not a customer) naming its product, variant, SKU, stock and threshold in both parts, and its
 * `low_stock_alerted` flag is set; running again sends nothing. Stock raised above the threshold (a
 * staff edit, a cancel, an import, plain SQL) clears the flag, so the next drop alerts again; raised
 * but still at or under it keeps the flag. Deleted and inactive variants and variants of a deleted
 * product are never listed; several low variants make one e-mail per staff user; two runs at once
 * list each variant once; with no active staff nothing is flagged and the alert waits. The job says
 * what it did ("N variants alerted to M staff", "no active staff to alert").
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { jobsRun } from '../../src/commands/jobs.js';
import { users } from '../../src/modules/accounts/tables.js';
import { importCatalog } from '../../src/modules/catalog/dataset/import.js';
import { variants } from '../../src/modules/catalog/tables.js';
import {
  SEND_LOW_STOCK_ALERT,
  UPDATE_LOW_STOCK_ALERTS,
  updateLowStockAlerts,
} from '../../src/modules/notifications/low-stock.js';
import { queryRows } from '../../src/platform/db/client.js';
import { makeUser, signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { placeOrder, stockOf } from '../helpers/commerce.js';
import { settleJobs } from '../helpers/jobs.js';
import { captureOutput } from '../helpers/output.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js';

type Signed = Awaited<ReturnType<typeof signedInUser>>;

interface LowVariant {
  id: string;
  productId: string;
  product: string;
  name: string;
  sku: string;
  createdAt: string;
}

const THRESHOLD = 5;
let counter = 0;

/** A live product with one variant (stock 7, threshold 5 unless told), made through the staff API. */
async function lowVariant(t: TestApp, staff: Signed, stock = 7): Promise<LowVariant> {
  counter++;
  const tag = `${counter}-${Math.random().toString(36).slice(2, 8)}`;
  const product = await t.app.inject({
    method: 'POST',
    url: '/api/products/',
    headers: staff.headers,
    payload: { name: `Kettle ${tag}`, sku: `LS-P-${tag}`, price: '12.00' },
  });
  expect(product.statusCode, product.body).toBe(201);
  const productId = product.json<{ id: string }>().id;
  const variant = await t.app.inject({
    method: 'POST',
    url: `/api/products/${productId}/variants/`,
    headers: staff.headers,
    payload: {
      name: `Copper ${tag}`,
      sku: `LS-V-${tag}`,
      price: '12.00',
      stock,
      low_stock_threshold: THRESHOLD,
    },
  });
  expect(variant.statusCode, variant.body).toBe(201);
  const body = variant.json<{ id: string; name: string; sku: string; created_at: string }>();
  return {
    id: body.id,
    productId,
    product: `Kettle ${tag}`,
    name: body.name,
    sku: body.sku,
    createdAt: body.created_at,
  };
}

/** How a variant is listed in the alert. */
const listed = (v: LowVariant, stock: number) =>
  `${v.product} — ${v.name} (${v.sku}): ${stock} left, threshold ${THRESHOLD}`;

const partsOf = (mail: ParsedMail): [string, string] => [mail.text ?? '', String(mail.html)];

const mentions = (mail: ParsedMail, v: LowVariant) => partsOf(mail).some((part) => part.includes(v.sku));

async function flagOf(t: TestApp, variantId: string): Promise<boolean> {
  const [row] = await t.deps.db
    .select({ alerted: variants.lowStockAlerted })
    .from(variants)
    .where(eq(variants.id, variantId));
  return row!.alerted;
}

async function setStock(t: TestApp, variantId: string, stock: number): Promise<void> {
  await t.deps.db.execute(sql`UPDATE product_variants SET stock = ${stock} WHERE id = ${variantId}`);
}

async function activeStaffCount(t: TestApp): Promise<number> {
  const rows = await t.deps.db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.isStaff, true), eq(users.isActive, true)));
  return rows.length;
}

/** The job, then its e-mails delivered. */
async function runAlerts(t: TestApp) {
  const result = await updateLowStockAlerts(t.deps);
  await settleJobs(t.deps);
  return result;
}

describe('low-stock alerts (update_low_stock_alerts)', () => {
  let smtp: SmtpSink;
  let t: TestApp;
  let staffA: Signed;
  let staffB: Signed;
  let inactiveStaff: Awaited<ReturnType<typeof makeUser>>;
  let customer: Signed;
  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({ env: { EMAIL_URL: smtp.url } });
    staffA = await signedInUser(t.app, t.deps, { isStaff: true, firstName: 'Alma' });
    staffB = await signedInUser(t.app, t.deps, { isStaff: true, firstName: 'Boris' });
    inactiveStaff = await makeUser(t.deps, { isStaff: true, isActive: false });
    customer = await signedInUser(t.app, t.deps);
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });
  beforeEach(async () => {
    // Whatever an earlier test left low and unalerted is alerted now, so each test sees its own alerts.
    await runAlerts(t);
    smtp.clear();
  });

  const alertsTo = (email: string) =>
    smtp.messagesTo(email).filter((m) => (m.subject ?? '').startsWith('Low stock'));
  const allAlerts = () => smtp.messages.filter((m) => (m.subject ?? '').startsWith('Low stock'));

  /** Each active staff user has exactly `count` alerts; the inactive staff user and the customer none. */
  function expectAlertCount(count: number) {
    expect(alertsTo(staffA.user.email)).toHaveLength(count);
    expect(alertsTo(staffB.user.email)).toHaveLength(count);
    expect(alertsTo(inactiveStaff.email)).toHaveLength(0);
    expect(alertsTo(customer.user.email)).toHaveLength(0);
  }

  /** The latest alert of each active staff user lists exactly `lines` (in text and HTML). */
  function expectLatestAlertLists(lines: string[]) {
    for (const staff of [staffA, staffB]) {
      const mail = alertsTo(staff.user.email).at(-1)!;
      expect(mail.subject).toBe(`Low stock: ${lines.length} variant${lines.length === 1 ? '' : 's'}`);
      const [text, html] = partsOf(mail);
      expect(text).toContain(`Hello ${staff.user.firstName},`);
      for (const line of lines) {
        expect(text).toContain(line);
        expect(html).toContain(`<p>${line}</p>`);
      }
      // Nothing but these variants: one listing line per variant.
      expect(text.split('\n').filter((l) => / left, threshold \d+$/.test(l))).toHaveLength(lines.length);
    }
  }

  const buy = async (items: Array<{ variant: string; quantity: number }>) => {
    const res = await placeOrder(t.app, customer.headers, { items });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: string }>();
  };

  const patchVariant = (id: string, payload: Record<string, unknown>) =>
    t.app.inject({ method: 'PATCH', url: `/api/variants/${id}/`, headers: staffA.headers, payload });

  it('alerts every active staff user once when an order takes the stock down to the threshold', async () => {
    const v = await lowVariant(t, staffA);
    expect((await runAlerts(t)).variants).toBe(0); // 7 is above the threshold
    expect(alertsTo(staffA.user.email)).toHaveLength(0);

    await buy([{ variant: v.id, quantity: 2 }]);
    expect(await stockOf(t.deps, v.id)).toBe(5);
    expect(await flagOf(t, v.id)).toBe(false);

    expect(await runAlerts(t)).toEqual({ variants: 1, staff: await activeStaffCount(t) });
    expectAlertCount(1);
    expectLatestAlertLists([listed(v, 5)]);
    expect(await flagOf(t, v.id)).toBe(true);

    // Again: nothing, the flag is the alert's "once".
    expect((await runAlerts(t)).variants).toBe(0);
    expectAlertCount(1);
    expect(await flagOf(t, v.id)).toBe(true);
  });

  it('a staff edit above the threshold clears the flag, and the next drop alerts again', async () => {
    const v = await lowVariant(t, staffA);
    await buy([{ variant: v.id, quantity: 2 }]);
    await runAlerts(t);
    expectAlertCount(1);

    const res = await patchVariant(v.id, { stock: 20 });
    expect(res.statusCode, res.body).toBe(200);
    expect(await flagOf(t, v.id)).toBe(false);
    expect((await runAlerts(t)).variants).toBe(0);
    expectAlertCount(1);

    await buy([{ variant: v.id, quantity: 16 }]);
    expect(await stockOf(t.deps, v.id)).toBe(4);
    expect((await runAlerts(t)).variants).toBe(1);
    expectAlertCount(2);
    expectLatestAlertLists([listed(v, 4)]);
    expect(await flagOf(t, v.id)).toBe(true);
  });

  it('a cancel that gives the stock back above the threshold clears the flag', async () => {
    const v = await lowVariant(t, staffA);
    const order = await buy([{ variant: v.id, quantity: 2 }]);
    await runAlerts(t);
    expectAlertCount(1);
    expect(await flagOf(t, v.id)).toBe(true);

    const res = await t.app.inject({
      method: 'POST',
      url: `/api/orders/${order.id}/cancel/`,
      headers: customer.headers,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(await stockOf(t.deps, v.id)).toBe(7);
    expect(await flagOf(t, v.id)).toBe(false);
    await settleJobs(t.deps);
    expect((await runAlerts(t)).variants).toBe(0);
    expectAlertCount(1);

    await buy([{ variant: v.id, quantity: 3 }]);
    expect((await runAlerts(t)).variants).toBe(1);
    expectAlertCount(2);
    expectLatestAlertLists([listed(v, 4)]);
  });

  it('an import that raises the stock above the threshold clears the flag', async () => {
    const v = await lowVariant(t, staffA);
    await buy([{ variant: v.id, quantity: 2 }]);
    await runAlerts(t);
    expectAlertCount(1);

    const dir = mkdtempSync(path.join(tmpdir(), 'nexus-low-stock-'));
    try {
      writeFileSync(
        path.join(dir, 'categories.csv'),
        'id,name,slug,description,parent_slug,is_active,created_at\n',
      );
      writeFileSync(
        path.join(dir, 'products.csv'),
        'id,name,slug,sku,description,short_description,price,compare_price,is_active,is_digital,' +
          'weight,dimensions,attributes,created_at,updated_at,category_slugs\n',
      );
      writeFileSync(
        path.join(dir, 'variants.csv'),
        'id,product_id,name,sku,price,attributes,is_active,stock,created_at\n' +
          `${v.id},${v.productId},${v.name},${v.sku},12.00,{},true,30,${v.createdAt}\n`,
      );
      const summary = await importCatalog(t.deps, dir);
      expect(summary.rejections).toEqual([]);
      expect(summary.variants).toMatchObject({ read: 1, updated: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(await stockOf(t.deps, v.id)).toBe(30);
    expect(await flagOf(t, v.id)).toBe(false);

    await setStock(t, v.id, 2);
    expect((await runAlerts(t)).variants).toBe(1);
    expectAlertCount(2);
    expectLatestAlertLists([listed(v, 2)]);
  });

  it('a plain SQL UPDATE above the threshold clears the flag', async () => {
    const v = await lowVariant(t, staffA);
    await buy([{ variant: v.id, quantity: 2 }]);
    await runAlerts(t);
    expectAlertCount(1);

    await setStock(t, v.id, THRESHOLD + 1);
    expect(await flagOf(t, v.id)).toBe(false);
    await setStock(t, v.id, 0);
    expect((await runAlerts(t)).variants).toBe(1);
    expectAlertCount(2);
    expectLatestAlertLists([listed(v, 0)]);
    expect(await flagOf(t, v.id)).toBe(true);
  });

  it('raising the stock but not above the threshold keeps the flag: no new alert', async () => {
    const v = await lowVariant(t, staffA);
    await buy([{ variant: v.id, quantity: 4 }]);
    await runAlerts(t);
    expectAlertCount(1);
    expectLatestAlertLists([listed(v, 3)]);

    const res = await patchVariant(v.id, { stock: THRESHOLD });
    expect(res.statusCode, res.body).toBe(200);
    expect(await flagOf(t, v.id)).toBe(true);
    await setStock(t, v.id, 4);
    expect(await flagOf(t, v.id)).toBe(true);
    expect((await runAlerts(t)).variants).toBe(0);
    expectAlertCount(1);
  });

  it('never lists a deleted or inactive variant, or a variant of a deleted product, even at stock 0', async () => {
    const live = await lowVariant(t, staffA);
    const deleted = await lowVariant(t, staffA);
    const softDeleted = await lowVariant(t, staffA);
    const inactive = await lowVariant(t, staffA);
    const ofDeletedProduct = await lowVariant(t, staffA);

    const del = await t.app.inject({
      method: 'DELETE',
      url: `/api/variants/${deleted.id}/`,
      headers: staffA.headers,
    });
    expect(del.statusCode, del.body).toBe(204);
    await t.deps.db.execute(sql`UPDATE product_variants SET deleted_at = now() WHERE id = ${softDeleted.id}`);
    const off = await patchVariant(inactive.id, { is_active: false });
    expect(off.statusCode, off.body).toBe(200);
    const delProduct = await t.app.inject({
      method: 'DELETE',
      url: `/api/products/${ofDeletedProduct.productId}/`,
      headers: staffA.headers,
    });
    expect(delProduct.statusCode, delProduct.body).toBe(204);
    const hidden = [deleted, softDeleted, inactive, ofDeletedProduct];
    for (const v of [live, ...hidden]) await setStock(t, v.id, 0);

    expect((await runAlerts(t)).variants).toBe(1);
    expectAlertCount(1);
    expectLatestAlertLists([listed(live, 0)]);
    for (const v of hidden) {
      expect(allAlerts().filter((m) => mentions(m, v))).toHaveLength(0);
      expect(await flagOf(t, v.id)).toBe(false);
    }

    // Nothing was flagged for the inactive one: made active again, it is alerted on the next run.
    const on = await patchVariant(inactive.id, { is_active: true });
    expect(on.statusCode, on.body).toBe(200);
    expect((await runAlerts(t)).variants).toBe(1);
    expectAlertCount(2);
    expectLatestAlertLists([listed(inactive, 0)]);
    for (const v of [deleted, softDeleted, ofDeletedProduct]) {
      expect(allAlerts().filter((m) => mentions(m, v))).toHaveLength(0);
    }
  });

  it('several variants low at once: one e-mail per staff user listing all of them', async () => {
    const a = await lowVariant(t, staffA);
    const b = await lowVariant(t, staffA);
    const c = await lowVariant(t, staffA, 3);
    await buy([
      { variant: a.id, quantity: 2 },
      { variant: b.id, quantity: 7 },
      { variant: c.id, quantity: 1 },
    ]);

    expect((await runAlerts(t)).variants).toBe(3);
    expectAlertCount(1);
    expectLatestAlertLists([listed(a, 5), listed(b, 0), listed(c, 2)]);
    for (const v of [a, b, c]) expect(await flagOf(t, v.id)).toBe(true);
  });

  it('two runs at the same moment list each variant once in total', async () => {
    const a = await lowVariant(t, staffA);
    const b = await lowVariant(t, staffA);
    await setStock(t, a.id, 1);
    await setStock(t, b.id, 2);

    const results = await Promise.all([updateLowStockAlerts(t.deps), updateLowStockAlerts(t.deps)]);
    await settleJobs(t.deps);
    expect(results[0].variants + results[1].variants).toBe(2);
    for (const staff of [staffA, staffB]) {
      const mails = alertsTo(staff.user.email);
      expect(mails.filter((m) => mentions(m, a))).toHaveLength(1);
      expect(mails.filter((m) => mentions(m, b))).toHaveLength(1);
    }
    expect(alertsTo(inactiveStaff.email)).toHaveLength(0);
    expect(alertsTo(customer.user.email)).toHaveLength(0);
  });

  it('two `jobs:run` at the same moment: one alert per staff user', async () => {
    const v = await lowVariant(t, staffA);
    await buy([{ variant: v.id, quantity: 2 }]);
    await settleJobs(t.deps);

    const outs = [captureOutput(), captureOutput()];
    const rows = await Promise.all(outs.map((out) => jobsRun(t.deps, out, UPDATE_LOW_STOCK_ALERTS)));
    await settleJobs(t.deps);
    const staffCount = await activeStaffCount(t);
    expect(rows.map((r) => r.result).sort()).toEqual([
      `0 variants alerted to ${staffCount} staff`,
      `1 variant alerted to ${staffCount} staff`,
    ]);
    expectAlertCount(1);
    expectLatestAlertLists([listed(v, 5)]);
  });

  it('the job says what it did: "N variants alerted to M staff"', async () => {
    const a = await lowVariant(t, staffA);
    const b = await lowVariant(t, staffA);
    await buy([
      { variant: a.id, quantity: 2 },
      { variant: b.id, quantity: 3 },
    ]);
    await settleJobs(t.deps);
    const staffCount = await activeStaffCount(t);

    const out = captureOutput();
    const row = await jobsRun(t.deps, out, UPDATE_LOW_STOCK_ALERTS);
    expect(row.status).toBe('succeeded');
    expect(row.result).toBe(`2 variants alerted to ${staffCount} staff`);
    expect(out.lines).toEqual([`update_low_stock_alerts: 2 variants alerted to ${staffCount} staff.`]);
    await settleJobs(t.deps);
    expectAlertCount(1);
    expectLatestAlertLists([listed(a, 5), listed(b, 4)]);

    // One send job per active staff user, each of which sent.
    const sends = await queryRows<{ result: string | null; user_id: number }>(
      t.deps.db,
      sql`SELECT result, (payload->>'user_id')::int AS user_id FROM jobs
          WHERE name = ${SEND_LOW_STOCK_ALERT} AND payload->'variants' @> ${JSON.stringify([{ sku: a.sku }])}::jsonb`,
    );
    expect(sends).toHaveLength(staffCount);
    expect(sends.map((s) => s.user_id)).toEqual(expect.arrayContaining([staffA.user.id, staffB.user.id]));
    expect(sends.map((s) => s.user_id)).not.toContain(inactiveStaff.id);
    expect(new Set(sends.map((s) => s.result))).toEqual(new Set(['sent']));

    const again = captureOutput();
    expect((await jobsRun(t.deps, again, UPDATE_LOW_STOCK_ALERTS)).result).toBe(
      `0 variants alerted to ${staffCount} staff`,
    );
    await settleJobs(t.deps);
    expectAlertCount(1);
  });
});

describe('low-stock alerts with no active staff', () => {
  let smtp: SmtpSink;
  let t: TestApp;
  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({ env: { EMAIL_URL: smtp.url } });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it('flags nothing and says so; once a staff user exists, the next run alerts', async () => {
    // The catalog edits need a staff user; they are done by one who is then deactivated.
    const editor = await signedInUser(t.app, t.deps, { isStaff: true });
    const customer = await makeUser(t.deps);
    const v = await lowVariant(t, editor, 3);
    await t.deps.db.update(users).set({ isActive: false }).where(eq(users.id, editor.user.id));
    expect(await activeStaffCount(t)).toBe(0);

    const out = captureOutput();
    const row = await jobsRun(t.deps, out, UPDATE_LOW_STOCK_ALERTS);
    expect(row.result).toBe('no active staff to alert');
    expect(out.lines).toEqual(['update_low_stock_alerts: no active staff to alert.']);
    await settleJobs(t.deps);
    expect(await flagOf(t, v.id)).toBe(false);
    expect(smtp.messages).toHaveLength(0);

    const staff = await makeUser(t.deps, { isStaff: true, firstName: 'Clara' });
    const next = captureOutput();
    expect((await jobsRun(t.deps, next, UPDATE_LOW_STOCK_ALERTS)).result).toBe(
      '1 variant alerted to 1 staff',
    );
    expect(next.lines).toEqual(['update_low_stock_alerts: 1 variant alerted to 1 staff.']);
    await settleJobs(t.deps);
    expect(await flagOf(t, v.id)).toBe(true);
    expect(smtp.messages).toHaveLength(1);
    const [mail] = smtp.messagesTo(staff.email);
    expect(mail!.subject).toBe('Low stock: 1 variant');
    for (const part of partsOf(mail!)) expect(part).toContain(listed(v, 3));
    expect(mail!.text).toContain('Hello Clara,');
    expect(smtp.messagesTo(editor.user.email)).toHaveLength(0);
    expect(smtp.messagesTo(customer.email)).toHaveLength(0);
  });
});
