/**
 * `GET /api/orders/` and `GET /api/orders/<id>/`: a customer sees their own, staff every order;
 * another's is a 404; SPEC §5's filters, search and ordering through the list toolkit.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeVariant, placeOrder } from '../helpers/commerce.js';

describe('listing and reading orders', () => {
  let t: TestApp;
  let alice: Awaited<ReturnType<typeof signedInUser>>;
  let bob: Awaited<ReturnType<typeof signedInUser>>;
  let staff: Awaited<ReturnType<typeof signedInUser>>;
  const placed: Record<string, { id: string; order_number: string; total_amount: string }> = {};

  beforeAll(async () => {
    t = await createTestApp();
    alice = await signedInUser(t.app, t.deps);
    bob = await signedInUser(t.app, t.deps);
    staff = await signedInUser(t.app, t.deps, { isStaff: true });
    const cheap = (await makeVariant(t.deps, { price: '5.00' })).variant;
    const dear = (await makeVariant(t.deps, { price: '80.00' })).variant;
    const order = async (name: string, who: typeof alice, variant: string, email: string, day: string) => {
      const res = await placeOrder(t.app, who.headers, {
        items: [{ variant, quantity: 1 }],
        billing_email: email,
      });
      placed[name] = res.json();
      await t.deps.db.execute(
        sql`UPDATE orders SET created_at = ${day}::timestamptz WHERE id = ${placed[name].id}`,
      );
    };
    await order('a1', alice, cheap.id, 'alice@example.com', '2026-01-10T00:00:00Z');
    await order('a2', alice, dear.id, 'alice.work@example.com', '2026-02-10T00:00:00Z');
    await order('b1', bob, dear.id, 'bob@example.com', '2026-03-10T00:00:00Z');
    await t.deps.db.execute(sql`UPDATE orders SET status = 'shipped' WHERE id = ${placed.a2!.id}`);
  });
  afterAll(() => t.close());

  const list = async (query: string, headers: Record<string, string>) => {
    const res = await t.app.inject({ method: 'GET', url: `/api/orders/${query}`, headers });
    return res;
  };
  const ids = async (query: string, headers: Record<string, string>) =>
    (await list(query, headers)).json().results.map((o: { id: string }) => o.id);

  it('shows a customer their own orders, newest first, and staff all of them', async () => {
    expect(await ids('', alice.headers)).toEqual([placed.a2!.id, placed.a1!.id]);
    expect(await ids('', bob.headers)).toEqual([placed.b1!.id]);
    expect(await ids('', staff.headers)).toEqual([placed.b1!.id, placed.a2!.id, placed.a1!.id]);
    const page = (await list('', alice.headers)).json();
    expect(page).toMatchObject({ count: 2, next: null, previous: null });
    expect(page.results[0].items).toHaveLength(1);
  });

  it('filters by status, dates, totals and (staff) user; searches number and e-mail; orders by total', async () => {
    expect(await ids('?status=shipped', alice.headers)).toEqual([placed.a2!.id]);
    expect(await ids('?created_after=2026-02-01&created_before=2026-02-28', staff.headers)).toEqual([
      placed.a2!.id,
    ]);
    expect(await ids('?min_total=50', alice.headers)).toEqual([placed.a2!.id]);
    expect(await ids('?max_total=50', staff.headers)).toEqual([placed.a1!.id]);
    expect(await ids(`?user=${bob.user.id}`, staff.headers)).toEqual([placed.b1!.id]);
    expect(await ids(`?search=${placed.a1!.order_number.toLowerCase()}`, staff.headers)).toEqual([
      placed.a1!.id,
    ]);
    expect(await ids('?search=work', alice.headers)).toEqual([placed.a2!.id]);
    expect(await ids('?search=bob', alice.headers)).toEqual([]);
    expect(await ids('?ordering=total_amount', alice.headers)).toEqual([placed.a1!.id, placed.a2!.id]);
  });

  it('ignores the user filter for customers', async () => {
    expect(await ids(`?user=${bob.user.id}`, alice.headers)).toEqual([placed.a2!.id, placed.a1!.id]);
  });

  it.each([
    ['?status=lost', 'status'],
    ['?created_after=0000-01-01', 'created_after'],
    ['?min_total=abc', 'min_total'],
    ['?user=x', 'user'],
  ])('answers %s with a 400 on the parameter', async (query, name) => {
    const res = await list(query, staff.headers);
    expect(res.statusCode).toBe(400);
    expect(Object.keys(res.json())).toEqual([name]);
  });

  it('reads one order for its owner and staff; 404 for another customer and bad ids; 401 anonymous', async () => {
    const url = `/api/orders/${placed.a1!.id}/`;
    expect((await t.app.inject({ method: 'GET', url, headers: alice.headers })).json().id).toBe(
      placed.a1!.id,
    );
    expect((await t.app.inject({ method: 'GET', url, headers: staff.headers })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url, headers: bob.headers })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url })).statusCode).toBe(401);
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/orders/nope/', headers: alice.headers })).statusCode,
    ).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/api/orders/', headers: {} })).statusCode).toBe(401);
    const upper = `/api/orders/${placed.a1!.id.toUpperCase()}/`;
    expect((await t.app.inject({ method: 'GET', url: upper, headers: alice.headers })).statusCode).toBe(200);
  });
});
