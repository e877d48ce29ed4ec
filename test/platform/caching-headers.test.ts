/**
 * What a shared cache may keep: token responses carry `Cache-Control: no-store`; every response
 * says `Vary: Authorization`; one made for a signed-in caller is `private`, so a proxy never serves
 * a staff list to the public.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, signedInUser } from '../helpers/accounts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

describe('HTTP caching headers', () => {
  let t: TestApp;
  let staff: Awaited<ReturnType<typeof signedInUser>>;
  beforeAll(async () => {
    t = await createTestApp();
    staff = await signedInUser(t.app, t.deps, { isStaff: true });
  });
  afterAll(() => t.close());

  it('sends token pairs with no-store', async () => {
    const signIn = await t.app.inject({
      method: 'POST',
      url: '/api/auth/token/',
      payload: { username: staff.user.username, password: PASSWORD },
    });
    expect(signIn.statusCode).toBe(200);
    expect(signIn.headers['cache-control']).toBe('no-store');
    const refresh = await t.app.inject({
      method: 'POST',
      url: '/api/auth/token/refresh/',
      payload: { refresh: signIn.json().refresh },
    });
    expect(refresh.statusCode).toBe(200);
    expect(refresh.headers['cache-control']).toBe('no-store');
  });

  it('marks what a signed-in caller gets as private, and every list as varying by Authorization', async () => {
    const asStaff = await t.app.inject({ method: 'GET', url: '/api/products/', headers: staff.headers });
    expect(asStaff.headers['cache-control']).toBe('private');
    expect(asStaff.headers.vary).toMatch(/\bAuthorization\b/);
    const me = await t.app.inject({ method: 'GET', url: '/api/users/me/', headers: staff.headers });
    expect(me.headers['cache-control']).toBe('private');

    const asPublic = await t.app.inject({ method: 'GET', url: '/api/products/' });
    expect(asPublic.headers['cache-control']).toBeUndefined();
    expect(asPublic.headers.vary).toMatch(/\bAuthorization\b/);
  });

  it('keeps the Vary that CORS sets beside its own', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/products/',
      headers: { origin: 'https://shop.example' },
    });
    const vary = String(res.headers.vary);
    expect(vary.split(/,\s*/).filter((v) => /^authorization$/i.test(v))).toHaveLength(1);
  });
});
