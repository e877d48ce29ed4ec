/**
 * `GET /api/payments/` and `GET /api/payments/<id>/` (SPEC §6): a customer sees their own payments,
 * staff every one, another's is a 404; every filter, the search and the ordering against known
 * fixtures; bad filter values are 400s. The list is cached per audience (SPEC §8, the **fix**): one
 * customer never receives another's cached list, staff's is apart, and any payment change (a pay,
 * a webhook, a refund) makes the next request a MISS that shows it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payments, type Payment } from '../../src/modules/payments/tables.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeVariant, placeOrder } from '../helpers/commerce.js';
import { deliverWebhook, pay, webhookEvent } from '../helpers/payments.js';

type Customer = Awaited<ReturnType<typeof signedInUser>>;

/** A pending order of `who` (one digital item at 10.00). */
async function orderOf(t: TestApp, who: Customer) {
  const { variant } = await makeVariant(t.deps, { price: '10.00', isDigital: true });
  const res = await placeOrder(t.app, who.headers, { items: [{ variant: variant.id, quantity: 1 }] });
  expect(res.statusCode).toBe(201);
  return res.json<{ id: string }>().id;
}

const get = (t: TestApp, url: string, headers: Record<string, string>) =>
  t.app.inject({ method: 'GET', url, headers });

describe('listing and reading payments', () => {
  let t: TestApp;
  let alice: Customer;
  let bob: Customer;
  let staff: Customer;
  const p: Record<string, Payment> = {};

  beforeAll(async () => {
    t = await createTestApp({ env: { TAX_RATE: '0' } });
    alice = await signedInUser(t.app, t.deps);
    bob = await signedInUser(t.app, t.deps);
    staff = await signedInUser(t.app, t.deps, { isStaff: true });
    // Written straight to the table, for exact amounts, statuses and times; each on an order of its own.
    const fixture = async (
      name: string,
      who: Customer,
      row: Pick<Payment, 'gateway' | 'amount' | 'currency' | 'status' | 'refundedAmount' | 'reference'> & {
        at: string;
      },
    ) => {
      const [inserted] = await t.deps.db
        .insert(payments)
        .values({
          orderId: await orderOf(t, who),
          userId: who.user.id,
          gateway: row.gateway,
          amount: row.amount,
          currency: row.currency,
          status: row.status,
          refundedAmount: row.refundedAmount,
          reference: row.reference,
          nextAction: { type: 'sandbox', url: `http://testserver/api/payments/sandbox/${row.reference}/` },
          createdAt: new Date(row.at),
          updatedAt: new Date(row.at),
        })
        .returning();
      p[name] = inserted!;
    };
    const fields = (gateway: string, amount: string, currency: string, status: Payment['status']) => ({
      gateway,
      amount,
      currency,
      status,
      refundedAmount: status === 'refunded' ? amount : '0.00',
    });
    await fixture('alpha', alice, {
      ...fields('sandbox', '10.00', 'USD', 'succeeded'),
      reference: 'sbx_alpha',
      at: '2026-01-10T00:00:00Z',
    });
    await fixture('bravo', alice, {
      ...fields('sandbox', '25.50', 'EUR', 'pending'),
      reference: 'sbx_bravo',
      at: '2026-02-10T00:00:00Z',
    });
    await fixture('charlie', alice, {
      ...fields('stripe', '99.99', 'USD', 'refunded'),
      reference: 'pi_charlie',
      at: '2026-03-10T00:00:00Z',
    });
    await fixture('delta', bob, {
      ...fields('sandbox', '5.00', 'USD', 'failed'),
      reference: 'sbx_delta',
      at: '2026-01-20T00:00:00Z',
    });
    await fixture('echo', bob, {
      ...fields('stripe', '40.00', 'GBP', 'succeeded'),
      reference: 'pi_echo',
      at: '2026-04-01T00:00:00Z',
    });
  });
  afterAll(() => t.close());

  /** The fixture names of a list's results, in order. */
  const names = async (query: string, who: Customer) => {
    const res = await get(t, `/api/payments/${query}`, who.headers);
    expect(res.statusCode).toBe(200);
    const byId = new Map(Object.entries(p).map(([name, row]) => [row.id, name]));
    return res.json<{ results: Array<{ id: number }> }>().results.map((r) => byId.get(r.id) ?? r.id);
  };

  it('shows a customer their own payments, newest first, and staff all of them', async () => {
    expect(await names('', alice)).toEqual(['charlie', 'bravo', 'alpha']);
    expect(await names('', bob)).toEqual(['echo', 'delta']);
    expect(await names('', staff)).toEqual(['echo', 'charlie', 'bravo', 'delta', 'alpha']);
    const page = (await get(t, '/api/payments/', bob.headers)).json();
    expect(page).toMatchObject({ count: 2, next: null, previous: null });
    expect(page.results[0]).toEqual({
      id: p.echo!.id,
      order: p.echo!.orderId,
      user: bob.user.id,
      gateway: 'stripe',
      amount: '40.00',
      currency: 'GBP',
      status: 'succeeded',
      refunded_amount: '0.00',
      reference: 'pi_echo',
      created_at: '2026-04-01T00:00:00.000Z',
      updated_at: '2026-04-01T00:00:00.000Z',
    });
  });

  it('answers anonymous callers 401', async () => {
    for (const url of ['/api/payments/', `/api/payments/${p.alpha!.id}/`]) {
      const res = await get(t, url, {});
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ detail: 'Authentication credentials were not provided.' });
    }
  });

  it.each([
    ['?status=succeeded', 'staff', ['echo', 'alpha']],
    ['?status=pending', 'staff', ['bravo']],
    ['?status=failed', 'staff', ['delta']],
    ['?status=refunded', 'staff', ['charlie']],
    ['?status=failed', 'alice', []],
    ['?gateway=stripe', 'staff', ['echo', 'charlie']],
    ['?gateway=sandbox', 'alice', ['bravo', 'alpha']],
    ['?gateway=paypal', 'staff', []],
    ['?currency=USD', 'staff', ['charlie', 'delta', 'alpha']],
    ['?currency=usd', 'staff', ['charlie', 'delta', 'alpha']],
    ['?currency=gbp', 'alice', []],
    ['?amount=10', 'staff', ['alpha']],
    ['?amount=10.00', 'staff', ['alpha']],
    ['?amount=25.5', 'staff', ['bravo']],
    ['?amount=10.01', 'staff', []],
    ['?amount__lt=10', 'staff', ['delta']],
    ['?amount__lte=10', 'staff', ['delta', 'alpha']],
    ['?amount__gt=40', 'staff', ['charlie']],
    ['?amount__gte=40', 'staff', ['echo', 'charlie']],
    ['?amount__gte=5&amount__lt=40', 'staff', ['bravo', 'delta', 'alpha']],
    ['?amount__gt=5&amount__lte=99.99', 'bob', ['echo']],
    ['?created_after=2026-02-10', 'staff', ['echo', 'charlie', 'bravo']],
    ['?created_after=2026-02-10T00:00:01Z', 'staff', ['echo', 'charlie']],
    ['?created_before=2026-01-20', 'staff', ['delta', 'alpha']],
    ['?created_before=2026-01-19T23:59:59Z', 'staff', ['alpha']],
    ['?created_after=2026-01-15&created_before=2026-03-01', 'staff', ['bravo', 'delta']],
    ['?created_after=2026-01-15T00:00:00%2B05:00&created_before=2026-03-01', 'alice', ['bravo']],
    ['?status=succeeded&gateway=sandbox&currency=USD', 'staff', ['alpha']],
    ['?search=charlie', 'staff', ['charlie']],
    ['?search=sbx', 'staff', ['bravo', 'delta', 'alpha']],
    ['?search=SBX', 'bob', ['delta']],
    ['?search=stripe', 'staff', ['echo', 'charlie']],
    ['?search=gbp', 'staff', ['echo']],
    ['?search=eur', 'staff', ['bravo']],
    ['?search=sbx%20bravo', 'staff', ['bravo']],
    ['?search=sbx%20echo', 'staff', []],
    ['?search=echo', 'alice', []],
    ['?search=%25', 'staff', []],
    ['?ordering=amount', 'staff', ['delta', 'alpha', 'bravo', 'echo', 'charlie']],
    ['?ordering=-amount', 'staff', ['charlie', 'echo', 'bravo', 'alpha', 'delta']],
    ['?ordering=created_at', 'staff', ['alpha', 'delta', 'bravo', 'charlie', 'echo']],
    ['?ordering=-created_at', 'staff', ['echo', 'charlie', 'bravo', 'delta', 'alpha']],
    ['?ordering=-amount', 'alice', ['charlie', 'bravo', 'alpha']],
    ['?ordering=reference', 'staff', ['echo', 'charlie', 'bravo', 'delta', 'alpha']],
    ['?ordering=amount&status=succeeded', 'staff', ['alpha', 'echo']],
  ])('answers %s (%s) with %j', async (query, who, expected) => {
    const caller = { alice, bob, staff }[who as 'alice' | 'bob' | 'staff'];
    expect(await names(query, caller)).toEqual(expected);
  });

  it('counts and pages what it filtered', async () => {
    const page = (await get(t, '/api/payments/?gateway=sandbox&page_size=2', staff.headers)).json();
    expect(page.count).toBe(3);
    expect(page.results.map((r: { id: number }) => r.id)).toEqual([p.bravo!.id, p.delta!.id]);
    expect(page.next).toContain('page=2');
  });

  it.each([
    ['?status=lost', { status: ['Select a valid choice. lost is not one of the available choices.'] }],
    [
      '?status=SUCCEEDED',
      { status: ['Select a valid choice. SUCCEEDED is not one of the available choices.'] },
    ],
    ['?amount=abc', { amount: ['Enter a number.'] }],
    ['?amount__lt=1e3', { amount__lt: ['Enter a number.'] }],
    ['?amount__lte=ten', { amount__lte: ['Enter a number.'] }],
    ['?amount__gt=1.2.3', { amount__gt: ['Enter a number.'] }],
    ['?amount__gte=1234567890123', { amount__gte: ['Enter a number.'] }],
    ['?created_after=2026-13-01', { created_after: ['Enter a valid date/time.'] }],
    ['?created_after=0000-01-01', { created_after: ['Enter a valid date/time.'] }],
    ['?created_before=yesterday', { created_before: ['Enter a valid date/time.'] }],
    ['?created_before=2026-02-30', { created_before: ['Enter a valid date/time.'] }],
    // Twice: refused by the route's schema, before the toolkit sees it.
    ['?status=a&status=b', { status: [expect.any(String)] }],
    ['?search=' + 'x'.repeat(201), { search: ['Ensure this value has at most 200 characters.'] }],
    ['?gateway=' + 'x'.repeat(201), { gateway: ['Ensure this value has at most 200 characters.'] }],
    [
      '?amount=abc&created_after=nope',
      { amount: ['Enter a number.'], created_after: ['Enter a valid date/time.'] },
    ],
  ])('answers %s with a 400 naming the parameter', async (query, body) => {
    for (const who of [staff, alice]) {
      const res = await get(t, `/api/payments/${query}`, who.headers);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual(body);
    }
  });

  it('reads one payment for its customer and staff; another customer, and bad ids, get a 404', async () => {
    const url = `/api/payments/${p.alpha!.id}/`;
    const own = await get(t, url, alice.headers);
    expect(own.statusCode).toBe(200);
    expect(own.json()).toEqual({
      id: p.alpha!.id,
      order: p.alpha!.orderId,
      user: alice.user.id,
      gateway: 'sandbox',
      amount: '10.00',
      currency: 'USD',
      status: 'succeeded',
      refunded_amount: '0.00',
      reference: 'sbx_alpha',
      created_at: '2026-01-10T00:00:00.000Z',
      updated_at: '2026-01-10T00:00:00.000Z',
    });
    const asStaff = await get(t, url, staff.headers);
    expect(asStaff.statusCode).toBe(200);
    expect(asStaff.json()).toEqual(own.json());
    const other = await get(t, url, bob.headers);
    expect(other.statusCode).toBe(404);
    expect(other.json()).toEqual({ detail: 'Not found.' });
    for (const id of [
      '2000000000',
      '2147483648',
      '99999999999',
      '0',
      '-1',
      'abc',
      '1.5',
      '%20' + p.alpha!.id,
    ]) {
      const res = await get(t, `/api/payments/${id}/`, staff.headers);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ detail: 'Not found.' });
    }
  });
});

describe('the cached payments list', () => {
  let t: TestApp;
  let staff: Customer;
  beforeAll(async () => {
    t = await createTestApp({ env: { TAX_RATE: '0' } });
    staff = await signedInUser(t.app, t.deps, { isStaff: true });
  });
  afterAll(() => t.close());

  /** A customer with one payment, succeeded (10.00, through the sandbox's webhook). */
  async function payingCustomer() {
    const who = await signedInUser(t.app, t.deps);
    const orderId = await orderOf(t, who);
    const started = await pay(t.app, who.headers, orderId);
    expect(started.statusCode).toBe(201);
    const payment = started.json<{ payment: { id: number; reference: string; amount: string } }>().payment;
    const delivered = await deliverWebhook(
      t.app,
      t.deps,
      webhookEvent('payment.succeeded', { reference: payment.reference, amount: payment.amount }),
    );
    expect(delivered.statusCode).toBe(200);
    return { who, orderId, payment };
  }

  const list = (headers: Record<string, string>, query = '') => get(t, `/api/payments/${query}`, headers);
  const idsOf = (res: Awaited<ReturnType<typeof list>>) =>
    res.json<{ results: Array<{ id: number }> }>().results.map((r) => r.id);

  it('answers the second identical request from the cache (HIT), the same bytes and ETag', async () => {
    const { who } = await payingCustomer();
    const first = await list(who.headers, '?ordering=amount');
    const second = await list(who.headers, '?ordering=amount');
    expect(first.statusCode).toBe(200);
    expect(first.headers['x-cache']).toBe('MISS');
    expect(second.statusCode).toBe(200);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.body).toBe(first.body);
    expect(second.headers.etag).toBe(first.headers.etag);
    const notModified = await get(t, '/api/payments/?ordering=amount', {
      ...who.headers,
      'if-none-match': String(first.headers.etag),
    });
    expect(notModified.statusCode).toBe(304);
  });

  it("never serves one customer another customer's cached list (same URL), nor staff's", async () => {
    const one = await payingCustomer();
    const two = await payingCustomer();
    const url = '?page_size=50';
    const first = await list(one.who.headers, url);
    expect(first.headers['x-cache']).toBe('MISS');
    expect((await list(one.who.headers, url)).headers['x-cache']).toBe('HIT');
    expect(idsOf(first)).toEqual([one.payment.id]);

    const other = await list(two.who.headers, url);
    expect(other.headers['x-cache']).toBe('MISS');
    expect(idsOf(other)).toEqual([two.payment.id]);
    const otherAgain = await list(two.who.headers, url);
    expect(otherAgain.headers['x-cache']).toBe('HIT');
    expect(idsOf(otherAgain)).toEqual([two.payment.id]);
    expect((await list(one.who.headers, url)).body).toBe(first.body);

    const asStaff = await list(staff.headers, url);
    expect(asStaff.headers['x-cache']).toBe('MISS');
    expect(idsOf(asStaff)).toEqual(expect.arrayContaining([one.payment.id, two.payment.id]));
    const asStaffAgain = await list(staff.headers, url);
    expect(asStaffAgain.headers['x-cache']).toBe('HIT');
    expect(asStaffAgain.body).toBe(asStaff.body);
    // Staff's cached list (every payment) is not served to a customer either.
    expect(idsOf(await list(one.who.headers, url))).toEqual([one.payment.id]);
  });

  it('is made stale by a refund: the next request is a MISS showing it, for the customer and staff', async () => {
    const { who, payment } = await payingCustomer();
    const query = `?search=${payment.reference}`;
    for (const headers of [who.headers, staff.headers]) {
      await list(headers, query);
      expect((await list(headers, query)).headers['x-cache']).toBe('HIT');
    }
    const refunded = await t.app.inject({
      method: 'POST',
      url: `/api/payments/${payment.id}/refund/`,
      headers: staff.headers,
      payload: { amount: '3.00' },
    });
    expect(refunded.statusCode).toBe(200);
    for (const headers of [who.headers, staff.headers]) {
      const res = await list(headers, query);
      expect(res.headers['x-cache']).toBe('MISS');
      expect(res.json().results).toEqual([
        expect.objectContaining({ id: payment.id, status: 'succeeded', refunded_amount: '3.00' }),
      ]);
    }
    const rest = await t.app.inject({
      method: 'POST',
      url: `/api/payments/${payment.id}/refund/`,
      headers: staff.headers,
    });
    expect(rest.statusCode).toBe(200);
    const after = await list(who.headers, query);
    expect(after.headers['x-cache']).toBe('MISS');
    expect(after.json().results).toEqual([
      expect.objectContaining({ id: payment.id, status: 'refunded', refunded_amount: '10.00' }),
    ]);
  });

  it('is made stale by a new payment (pay) and by its webhook: the next request is a MISS showing it', async () => {
    const who = await signedInUser(t.app, t.deps);
    const empty = await list(who.headers);
    expect(empty.json().results).toEqual([]);
    expect((await list(who.headers)).headers['x-cache']).toBe('HIT');
    await list(staff.headers);
    expect((await list(staff.headers)).headers['x-cache']).toBe('HIT');

    const orderId = await orderOf(t, who);
    const started = await pay(t.app, who.headers, orderId);
    expect(started.statusCode).toBe(201);
    const payment = started.json().payment;
    const withIt = await list(who.headers);
    expect(withIt.headers['x-cache']).toBe('MISS');
    expect(withIt.json().results).toEqual([expect.objectContaining({ id: payment.id, status: 'pending' })]);
    const forStaff = await list(staff.headers);
    expect(forStaff.headers['x-cache']).toBe('MISS');
    expect(idsOf(forStaff)).toContain(payment.id);
    expect((await list(who.headers)).headers['x-cache']).toBe('HIT');

    const delivered = await deliverWebhook(
      t.app,
      t.deps,
      webhookEvent('payment.succeeded', { reference: payment.reference, amount: payment.amount }),
    );
    expect(delivered.statusCode).toBe(200);
    const settled = await list(who.headers);
    expect(settled.headers['x-cache']).toBe('MISS');
    expect(settled.json().results).toEqual([
      expect.objectContaining({ id: payment.id, status: 'succeeded' }),
    ]);
  });

  it('is made stale when a paid order is cancelled (its payment refunded)', async () => {
    const { who, orderId, payment } = await payingCustomer();
    await list(who.headers);
    expect((await list(who.headers)).headers['x-cache']).toBe('HIT');
    const cancelled = await t.app.inject({
      method: 'POST',
      url: `/api/orders/${orderId}/cancel/`,
      headers: who.headers,
    });
    expect(cancelled.statusCode).toBe(200);
    const res = await list(who.headers);
    expect(res.headers['x-cache']).toBe('MISS');
    expect(res.json().results).toEqual([
      expect.objectContaining({ id: payment.id, status: 'refunded', refunded_amount: '10.00' }),
    ]);
  });

  it('does not cache a refusal: a bad filter is a 400 each time', async () => {
    const who = await signedInUser(t.app, t.deps);
    for (let i = 0; i < 2; i++) {
      const res = await list(who.headers, '?amount=abc');
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ amount: ['Enter a number.'] });
    }
  });
});
