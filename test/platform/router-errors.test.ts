/**
 * SPEC §2: every error body has DRF's shapes, also those the router and the CORS preflight produce,
 * which Fastify and @fastify/cors answered as `{"error","code","message"}` or plain text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';

describe('router and preflight errors', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { CORS_ORIGINS: 'https://shop.example' } });
  });
  afterAll(() => t.close());

  it.each(['/api/products/%E0%A4%A/', '/api/categories/%ZZ/', '/api/products/%C0%80/'])(
    'answers a path that does not decode (%s) with a 400 detail',
    async (url) => {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ detail: 'Malformed URL: it does not decode as UTF-8.' });
      expect(res.headers['x-request-id']).toBeTruthy();
    },
  );

  it('answers a path segment over the router limit as the 404 it is', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/api/products/${'a'.repeat(600)}/` });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ detail: 'Not found.' });
  });

  it.each([
    { name: 'no headers', headers: {} },
    { name: 'an origin only', headers: { origin: 'https://shop.example' } },
    { name: 'a method only', headers: { 'access-control-request-method': 'POST' } },
  ])('answers a preflight with $name with a 400 detail', async ({ headers }) => {
    const res = await t.app.inject({ method: 'OPTIONS', url: '/api/products/', headers });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({
      detail: 'Invalid preflight request: Origin and Access-Control-Request-Method are required.',
    });
  });

  it('still answers a well-formed preflight', async () => {
    const res = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/products/',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('https://shop.example');
  });
});
