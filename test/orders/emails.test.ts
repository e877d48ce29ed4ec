/**
 * SPEC §9's order e-mails: one confirmation per order and one mail per shipped or cancelled order,
 * also when the job runs twice; and, as registration does, a checkout while Redis is down succeeds
 * and its mail goes out once Redis is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transaction } from '../../src/platform/db/transaction.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeVariant, placeOrder } from '../helpers/commerce.js';
import { settleJobs } from '../helpers/jobs.js';
import { PrivateRedis, redisServerAvailable } from '../helpers/redis.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js';
import { waitFor } from '../helpers/wait.js';

describe('order e-mails', () => {
  let smtp: SmtpSink;
  let t: TestApp;
  let customer: Awaited<ReturnType<typeof signedInUser>>;
  let staff: Awaited<ReturnType<typeof signedInUser>>;
  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({ env: { EMAIL_URL: smtp.url } });
    customer = await signedInUser(t.app, t.deps);
    staff = await signedInUser(t.app, t.deps, { isStaff: true });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const order = async (email: string) => {
    const { variant } = await makeVariant(t.deps, { price: '7.25', productName: 'Teapot' });
    const res = await placeOrder(t.app, customer.headers, {
      items: [{ variant: variant.id, quantity: 2 }],
      billing_email: email,
    });
    expect(res.statusCode).toBe(201);
    return res.json();
  };
  const rerun = (name: string, payload: Record<string, unknown>) =>
    transaction(t.deps.db, (tx) => t.deps.jobs.enqueue(tx, name, payload));
  const move = (id: string, status: string) =>
    t.app.inject({
      method: 'POST',
      url: `/api/orders/${id}/status/`,
      headers: staff.headers,
      payload: { status },
    });

  it('confirms an order once, with its number, lines, totals and addresses, even when the job runs twice', async () => {
    const placed = await order('confirm@example.com');
    await settleJobs(t.deps);
    await rerun('send_order_confirmation', { order_id: placed.id });
    await settleJobs(t.deps);
    const mails = smtp.messagesTo('confirm@example.com');
    expect(mails).toHaveLength(1);
    const mail = mails[0]!;
    expect(mail.subject).toBe(`Order ${placed.order_number} confirmed`);
    for (const part of [mail.text ?? '', String(mail.html)]) {
      expect(part).toContain(placed.order_number);
      expect(part).toContain('Teapot');
      expect(part).toContain('14.50');
      expect(part).toContain(placed.total_amount);
      expect(part).toContain('1 Main St');
    }
  });

  it('mails a shipped order once, and nothing for the moves a customer need not hear of', async () => {
    const placed = await order('ship@example.com');
    for (const status of ['confirmed', 'processing', 'shipped', 'delivered']) {
      expect((await move(placed.id, status)).statusCode).toBe(200);
    }
    await settleJobs(t.deps);
    await rerun('send_order_status_email', { order_id: placed.id, status: 'shipped' });
    await settleJobs(t.deps);
    const subjects = smtp.messagesTo('ship@example.com').map((m) => m.subject);
    expect(subjects).toEqual([
      `Order ${placed.order_number} confirmed`,
      `Order ${placed.order_number} has shipped`,
    ]);
  });

  it('mails a cancelled order once', async () => {
    const placed = await order('cancel@example.com');
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/orders/${placed.id}/cancel/`,
      headers: customer.headers,
    });
    expect(res.statusCode).toBe(200);
    await settleJobs(t.deps);
    await rerun('send_order_status_email', { order_id: placed.id, status: 'cancelled' });
    await settleJobs(t.deps);
    const subjects = smtp.messagesTo('cancel@example.com').map((m) => m.subject);
    expect(subjects).toEqual([
      `Order ${placed.order_number} confirmed`,
      `Order ${placed.order_number} was cancelled`,
    ]);
  });
});

describe.skipIf(!redisServerAvailable)('an order placed while Redis is down (needs redis-server)', () => {
  let smtp: SmtpSink;
  let redis: PrivateRedis;
  let t: TestApp;
  beforeAll(async () => {
    smtp = await startSmtpSink();
    redis = await PrivateRedis.start();
    t = await createTestApp({ env: { EMAIL_URL: smtp.url, REDIS_URL: redis.url, JOBS_EAGER: 'false' } });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
    await smtp?.close();
  });

  it('succeeds, and the confirmation goes out once Redis is back', async () => {
    const customer = await signedInUser(t.app, t.deps);
    const { variant } = await makeVariant(t.deps);
    await redis.stop();
    const res = await placeOrder(t.app, customer.headers, {
      items: [{ variant: variant.id, quantity: 1 }],
      billing_email: 'outage@example.com',
    });
    expect(res.statusCode).toBe(201);
    await t.deps.jobs.idle();
    expect(smtp.messagesTo('outage@example.com')).toHaveLength(0);
    await redis.start();
    await waitFor(
      () => smtp.messagesTo('outage@example.com').length > 0,
      20_000,
      'the confirmation after Redis came back',
    );
    await settleJobs(t.deps, 20_000);
    expect(smtp.messagesTo('outage@example.com')).toHaveLength(1);
  });
});
