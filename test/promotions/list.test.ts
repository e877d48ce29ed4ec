/**
 * SPEC §6 and §2, `GET /api/coupons/` (staff only): DRF's page shape with absolute `next`/`previous`
 * links on SITE_URL, search on `code` (case-insensitive, every term, wildcards literal), the
 * `is_active` and `kind` filters, a malformed filter value a 400 naming it, ordering by `code` and
 * by `-created_at` (the default, ties by id). Fixtures are five coupons sharing a prefix of their
 * own, which every query searches for, so other tests' coupons never interfere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Coupon } from '../../src/modules/promotions/tables.js';
import { signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeCoupon } from '../helpers/promotions.js';

const SITE = 'https://shop.example';
const P = `LST${Math.random().toString(36).slice(2, 8).toUpperCase()}`;

let t: TestApp;
let staff: Record<string, string>;
let customer: Record<string, string>;
const made: Record<'alpha' | 'bravo' | 'charlie' | 'delta' | 'echo', Coupon> = {} as never;

beforeAll(async () => {
  t = await createTestApp({ env: { SITE_URL: SITE } });
  staff = (await signedInUser(t.app, t.deps, { isStaff: true })).headers;
  customer = (await signedInUser(t.app, t.deps)).headers;
  const day = (d: number) => new Date(`2026-01-0${d}T12:00:00Z`);
  // Upper-case codes, so ordering by code is the same in every collation.
  made.alpha = await makeCoupon(t.deps, { code: `${P}-ALPHA`, kind: 'percent', createdAt: day(1) });
  made.charlie = await makeCoupon(t.deps, {
    code: `${P}-CHARLIE`,
    kind: 'percent',
    isActive: false,
    createdAt: day(2),
  });
  made.bravo = await makeCoupon(t.deps, {
    code: `${P}-BRAVO`,
    kind: 'fixed',
    value: '5.00',
    createdAt: day(3),
  });
  made.echo = await makeCoupon(t.deps, { code: `${P}-ECHO`, kind: 'percent', createdAt: day(4) });
  made.delta = await makeCoupon(t.deps, {
    code: `${P}-DELTA`,
    kind: 'fixed',
    value: '7.00',
    isActive: false,
    createdAt: day(5),
  });
  // Other coupons of every kind, outside the prefix.
  await makeCoupon(t.deps, { kind: 'fixed', value: '1.00' });
  await makeCoupon(t.deps, { kind: 'percent', isActive: false });
});
afterAll(() => t.close());

const list = (query: string, headers = staff) =>
  t.app.inject({ method: 'GET', url: `/api/coupons/${query}`, headers });

/** The codes of a page, as their fixtures' names. */
async function names(query: string): Promise<string[]> {
  const res = await list(query);
  expect(res.statusCode, res.body).toBe(200);
  const byCode = new Map(Object.entries(made).map(([name, c]) => [c.code, name]));
  return res.json().results.map((c: { code: string }) => byCode.get(c.code) ?? c.code);
}

describe('GET /api/coupons/', () => {
  it('answers a DRF page of coupons, newest first by default', async () => {
    const res = await list(`?search=${P}`);
    expect(res.statusCode).toBe(200);
    const page = res.json();
    expect(Object.keys(page).sort()).toEqual(['count', 'next', 'previous', 'results']);
    expect(page).toMatchObject({ count: 5, next: null, previous: null });
    expect(await names(`?search=${P}`)).toEqual(['delta', 'echo', 'bravo', 'charlie', 'alpha']);
    expect(page.results[0]).toEqual({
      id: made.delta.id,
      code: `${P}-DELTA`,
      kind: 'fixed',
      value: '7.00',
      min_subtotal: '0.00',
      starts_at: null,
      ends_at: null,
      max_uses: null,
      max_uses_per_user: null,
      is_active: false,
      times_used: 0,
      created_at: '2026-01-05T12:00:00.000Z',
    });
  });

  it('pages with absolute links on SITE_URL that keep the other parameters', async () => {
    const first = (await list(`?search=${P}&page_size=2`)).json();
    expect(first.count).toBe(5);
    expect(first.previous).toBeNull();
    expect(first.next).toBe(`${SITE}/api/coupons/?search=${P}&page_size=2&page=2`);
    expect(first.results.map((c: { id: number }) => c.id)).toEqual([made.delta.id, made.echo.id]);

    const second = (await list(`?search=${P}&page_size=2&page=2`)).json();
    expect(second.previous).toBe(`${SITE}/api/coupons/?search=${P}&page_size=2`);
    expect(second.next).toBe(`${SITE}/api/coupons/?search=${P}&page_size=2&page=3`);
    expect(second.results.map((c: { id: number }) => c.id)).toEqual([made.bravo.id, made.charlie.id]);

    const third = (await list(`?search=${P}&page_size=2&page=3`)).json();
    expect(third).toMatchObject({ count: 5, next: null });
    expect(third.previous).toBe(`${SITE}/api/coupons/?search=${P}&page_size=2&page=2`);
    expect(third.results.map((c: { id: number }) => c.id)).toEqual([made.alpha.id]);
  });

  it.each(['4', '0', 'abc', '-1'])('answers page=%s with 404 Invalid page.', async (page) => {
    const res = await list(`?search=${P}&page_size=2&page=${page}`);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ detail: 'Invalid page.' });
  });

  it('caps page_size at 100 rather than refusing it', async () => {
    const res = await list(`?search=${P}&page_size=500`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ count: 5, next: null });
  });

  it('searches code case-insensitively, every term having to match', async () => {
    expect(await names(`?search=${P.toLowerCase()}-alpha`)).toEqual(['alpha']);
    expect(await names(`?search=${P.toLowerCase()}`)).toHaveLength(5);
    expect(await names(`?search=ChArLiE`)).toContain('charlie');
    expect(await names(`?search=${P}%20bravo`)).toEqual(['bravo']);
    expect(await names(`?search=${P}%20bravo%20echo`)).toEqual([]);
    expect(await names(`?search=${P}-ZULU`)).toEqual([]);
  });

  it('matches `_` and `%` in a search literally, not as wildcards', async () => {
    const q = `LSU${Math.random().toString(36).slice(2, 8).toUpperCase()}`;
    const underscore = await makeCoupon(t.deps, { code: `${q}_1` });
    await makeCoupon(t.deps, { code: `${q}X1` });
    const res = (await list(`?search=${q}_`)).json();
    expect(res.results.map((c: { id: number }) => c.id)).toEqual([underscore.id]);
    expect((await list(`?search=${q}%25`)).json().count).toBe(0);
  });

  it.each<[string, string[]]>([
    ['is_active=true', ['echo', 'bravo', 'alpha']],
    ['is_active=1', ['echo', 'bravo', 'alpha']],
    ['is_active=false', ['delta', 'charlie']],
    ['is_active=0', ['delta', 'charlie']],
    ['kind=percent', ['echo', 'charlie', 'alpha']],
    ['kind=fixed', ['delta', 'bravo']],
    ['kind=fixed&is_active=true', ['bravo']],
    ['kind=percent&is_active=false', ['charlie']],
    ['is_active=&kind=', ['delta', 'echo', 'bravo', 'charlie', 'alpha']], // empty: no filter (django-filter)
  ])('filters %s', async (filter, expected) => {
    expect(await names(`?search=${P}&${filter}`)).toEqual(expected);
    expect((await list(`?search=${P}&${filter}`)).json().count).toBe(expected.length);
  });

  it.each<[string, Record<string, string[]>]>([
    ['is_active=maybe', { is_active: ['Enter a valid boolean: true, false, 1 or 0.'] }],
    ['kind=bogo', { kind: ['Select a valid choice. bogo is not one of the available choices.'] }],
    ['kind=PERCENT', { kind: ['Select a valid choice. PERCENT is not one of the available choices.'] }],
    [
      'kind=bogo&is_active=maybe',
      {
        kind: ['Select a valid choice. bogo is not one of the available choices.'],
        is_active: ['Enter a valid boolean: true, false, 1 or 0.'],
      },
    ],
  ])('answers a malformed filter, %s, with a 400 naming it', async (filter, errors) => {
    const res = await list(`?search=${P}&${filter}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(errors);
  });

  it.each<[string, string[]]>([
    ['code', ['alpha', 'bravo', 'charlie', 'delta', 'echo']],
    ['-code', ['echo', 'delta', 'charlie', 'bravo', 'alpha']],
    ['created_at', ['alpha', 'charlie', 'bravo', 'echo', 'delta']],
    ['-created_at', ['delta', 'echo', 'bravo', 'charlie', 'alpha']],
    ['bogus', ['delta', 'echo', 'bravo', 'charlie', 'alpha']], // unknown: the default applies
    ['bogus,code', ['alpha', 'bravo', 'charlie', 'delta', 'echo']], // unknown fields are skipped
    ['kind,code', ['alpha', 'bravo', 'charlie', 'delta', 'echo']], // kind is not an ordering field: skipped
  ])('orders by %s', async (ordering, expected) => {
    expect(await names(`?search=${P}&ordering=${ordering}`)).toEqual(expected);
  });

  it('breaks created_at ties by id, ascending', async () => {
    const q = `LSV${Math.random().toString(36).slice(2, 8).toUpperCase()}`;
    const at = new Date('2026-02-01T00:00:00Z');
    const first = await makeCoupon(t.deps, { code: `${q}-B`, createdAt: at });
    const second = await makeCoupon(t.deps, { code: `${q}-A`, createdAt: at });
    const ids = (await list(`?search=${q}`)).json().results.map((c: { id: number }) => c.id);
    expect(ids).toEqual([first.id, second.id]);
  });

  it('is staff only: customers 403, anonymous callers 401', async () => {
    const asCustomer = await list(`?search=${P}`, customer);
    expect(asCustomer.statusCode).toBe(403);
    expect(asCustomer.json()).toEqual({ detail: 'You do not have permission to perform this action.' });
    const anonymous = await list(`?search=${P}`, {});
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toEqual({ detail: 'Authentication credentials were not provided.' });
  });
});
