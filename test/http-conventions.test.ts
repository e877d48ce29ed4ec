import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';

const Echo = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 10 }),
  count: Type.Integer({ minimum: 0 }),
  email: Type.Optional(Type.String({ format: 'email' })),
});

// eslint-disable-next-line @typescript-eslint/require-await
async function probe(app: FastifyInstance) {
  app.post('/probe/echo/', { schema: { body: Echo } }, (request) => ({ echoed: request.body }));
  app.get('/probe/boom/', () => {
    throw new Error('secret internals');
  });
}

describe('HTTP conventions (SPEC §2)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ plugins: [probe] });
  });
  afterAll(() => t.close());

  const post = (payload: string, contentType = 'application/json') =>
    t.app.inject({ method: 'POST', url: '/probe/echo/', payload, headers: { 'content-type': contentType } });

  it('answers a valid body', async () => {
    const res = await post(JSON.stringify({ name: 'a', count: 2 }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ echoed: { name: 'a', count: 2 } });
  });

  it('answers malformed JSON with 400 and a detail', async () => {
    const res = await post('{"name": ');
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toMatch(/^JSON parse error/);
  });

  it('answers an empty JSON body with 400', async () => {
    const res = await post('');
    expect(res.statusCode).toBe(400);
  });

  it('answers a 2 MiB body with 413', async () => {
    const res = await post(JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024), count: 1 }));
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ detail: expect.stringContaining('too large') });
  });

  it('answers a text/plain body with 415', async () => {
    const res = await post('hello', 'text/plain');
    expect(res.statusCode).toBe(415);
    expect(res.json()).toEqual({ detail: 'Unsupported media type "text/plain" in request.' });
  });

  it('answers an unknown route with a JSON 404', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/no/such/route/' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.json()).toEqual({ detail: 'Not found.' });
  });

  it('answers a known path with an unknown method with 405 and Allow', async () => {
    const res = await t.app.inject({ method: 'DELETE', url: '/probe/echo/' });
    expect(res.statusCode).toBe(405);
    expect(res.json()).toEqual({ detail: 'Method "DELETE" not allowed.' });
    expect(res.headers.allow).toContain('POST');
  });

  it('serves paths with and without the trailing slash', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
  });

  it('reports every field error in DRF shape', async () => {
    const res = await post(
      JSON.stringify({ name: 'x'.repeat(10_000), count: 'many', email: 'not-an-email' }),
    );
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      name: ['Ensure this field has no more than 10 characters.'],
      count: ['A valid integer is required.'],
      email: ['Enter a valid email address.'],
    });
  });

  it('names missing fields', async () => {
    const res = await post('{}');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ name: ['This field is required.'], count: ['This field is required.'] });
  });

  it('refuses a body that is not an object', async () => {
    const res = await post('[1, 2]');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toHaveProperty('non_field_errors');
  });

  it('answers 500 without internals outside development', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/probe/boom/' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ detail: 'A server error occurred.' });
    expect(res.body).not.toContain('secret internals');
  });

  it('echoes a sane X-Request-Id and makes one up otherwise', async () => {
    const given = await t.app.inject({
      method: 'GET',
      url: '/health/',
      headers: { 'x-request-id': 'abc-123' },
    });
    expect(given.headers['x-request-id']).toBe('abc-123');
    const made = await t.app.inject({
      method: 'GET',
      url: '/health/',
      headers: { 'x-request-id': 'bad id\n' },
    });
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const error = await t.app.inject({ method: 'GET', url: '/nope/', headers: { 'x-request-id': 'err-1' } });
    expect(error.headers['x-request-id']).toBe('err-1');
  });

  it("sends Helmet's security headers on every answer, 404s and 405s included", async () => {
    for (const [method, url] of [
      ['GET', '/health/'],
      ['GET', '/no/such/path/'],
      ['DELETE', '/health/'],
    ] as const) {
      const res = await t.app.inject({ method, url });
      expect(res.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'strict-transport-security': 'max-age=31536000; includeSubDomains',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-resource-policy': 'same-origin',
        'referrer-policy': 'no-referrer',
        'x-dns-prefetch-control': 'off',
        'x-download-options': 'noopen',
        'x-permitted-cross-domain-policies': 'none',
        'origin-agent-cluster': '?1',
        'x-xss-protection': '0',
      });
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("worker-src 'self' blob:");
      expect(csp).not.toContain('upgrade-insecure-requests');
    }
  });

  it('answers /health/ with the state of each backend', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health/' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', db: true, cache: true, queue: true });
    expect(typeof res.json().elapsed_ms).toBe('number');
  });
});

describe('development error pages', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ plugins: [probe], env: { NODE_ENV: 'development' } });
  });
  afterAll(() => t.close());

  it('shows the error and stack in development only', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/probe/boom/' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ detail: 'A server error occurred.', error: 'secret internals' });
  });
});

describe('CORS', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { CORS_ORIGINS: 'https://shop.example' } });
  });
  afterAll(() => t.close());

  it('allows the configured origins only', async () => {
    const allowed = await t.app.inject({
      method: 'GET',
      url: '/health/',
      headers: { origin: 'https://shop.example' },
    });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://shop.example');
    const other = await t.app.inject({
      method: 'GET',
      url: '/health/',
      headers: { origin: 'https://evil.example' },
    });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

/** A promise and the function that settles it. */
function signal() {
  let fire!: () => void;
  const fired = new Promise<void>((resolve) => (fire = resolve));
  return { fire, fired };
}

describe('closing the app', () => {
  it('waits for a handler whose client gave up, so its queries still find the database open', async () => {
    let finished = false;
    const entered = signal();
    const clientGone = signal();
    const closeBegan = signal();
    // The route is registered while the app is built; it reaches the app once that is done.
    const built: { app?: TestApp } = {};
    // eslint-disable-next-line @typescript-eslint/require-await
    const slow = async (app: FastifyInstance) => {
      app.get('/probe/slow-db/', async (request) => {
        request.raw.socket.once('close', clientGone.fire);
        entered.fire();
        // Still running when its client is gone and the server has closed (the hook below runs
        // once Fastify counts every request as done), then it queries the database.
        await closeBegan.fired;
        await new Promise((r) => setImmediate(r));
        await built.app!.deps.db.execute(sql`select 1`);
        finished = true;
        return { ok: true };
      });
      app.addHook('onClose', () => closeBegan.fire());
    };
    const t = await createTestApp({ plugins: [slow] });
    built.app = t;
    const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const abort = new AbortController();
    const request = fetch(`${base}/probe/slow-db/`, { signal: abort.signal }).catch(() => undefined);
    await entered.fired;
    abort.abort();
    await request;
    await clientGone.fired;
    await t.app.close();
    expect(finished).toBe(true);
    await t.close();
  });
});
