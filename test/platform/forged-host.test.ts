/**
 * SPEC §2: absolute links come from SITE_URL. A forged `Host` or `X-Forwarded-Host`, on a cache
 * miss or a hit, never reaches a link another caller receives; a malformed `Host` is a 400.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { products } from '../../src/modules/catalog/tables.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

const SITE = 'https://shop.example';

describe.each([
  { name: 'without a proxy', env: {} },
  { name: 'behind TRUST_PROXY=1', env: { TRUST_PROXY: '1' } },
])('forged Host headers ($name)', ({ env }) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { SITE_URL: SITE, ...env } });
    await t.deps.db
      .insert(products)
      .values([1, 2, 3, 4, 5].map((i) => ({ name: `P${i}`, slug: `p${i}`, sku: `SKU-${i}`, price: '1.00' })));
  });
  afterAll(() => t.close());

  const list = (headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'GET', url: '/api/products/?page_size=2&page=2', headers });

  const forged: Array<Record<string, string>> = [
    { host: 'evil.example' },
    { host: 'evil.example:8443' },
    { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' },
    { host: 'evil.example', 'x-forwarded-host': 'evil2.example' },
  ];

  it('builds next and previous from SITE_URL on a miss, and a hit serves the same links', async () => {
    for (const headers of forged) {
      const first = await list(headers);
      expect(first.statusCode).toBe(200);
      const again = await list();
      for (const res of [first, again]) {
        const body = res.json();
        expect(body.next).toBe(`${SITE}/api/products/?page_size=2&page=3`);
        expect(body.previous).toBe(`${SITE}/api/products/?page_size=2`);
      }
      expect(again.headers['x-cache']).toBe('HIT');
      expect(again.body).toBe(first.body);
    }
  });

  it('keeps a path that starts with two slashes a path of SITE_URL', async () => {
    // Resolved against a base, `//api/products/` would name the host `api`.
    const res = await t.app.inject({ method: 'GET', url: '//api/products/?page_size=2' });
    expect(res.statusCode).toBe(200);
    expect(res.json().next).toBe(`${SITE}//api/products/?page_size=2&page=2`);
  });

  it.each(['a b', 'x:99999', 'host:', 'a/b', 'a@b', '[::1', 'h\tx'])(
    'answers Host %j with a 400',
    async (host) => {
      const res = await list({ host });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ detail: 'The Host header is malformed.' });
    },
  );

  it.each(['shop.example', 'shop.example:443', '127.0.0.1:8000', '[::1]:8000', 'localhost'])(
    'accepts Host %j',
    async (host) => {
      expect((await list({ host })).statusCode).toBe(200);
    },
  );
});
