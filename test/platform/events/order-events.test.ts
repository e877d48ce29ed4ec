/**
 * `GET /api/orders/<id>/events/` over real HTTP (SPEC §5, issue 9 acceptance 7). With PostgreSQL
 * and Redis it runs on two API processes sharing both: a status change made through B reaches a
 * stream opened on A within a second; embedded, A and B are one process. The stream starts with
 * the current status (id = the latest history id); `Last-Event-ID` replays what was missed, in
 * order, then goes live; it ends after `delivered` (or `cancelled`), and a reconnect that has seen
 * the end gets 204; owner and staff only (another customer 404, anonymous 401); a sixth stream of
 * one user is a 429, counted across processes; the `access_token` is accepted and never logged.
 */
import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { buildDeps, createLogger, type Deps } from '../../../src/deps.js';
import { signedInUser } from '../../helpers/accounts.js';
import { testConfig } from '../../helpers/app.js';
import { makeVariant, placeOrder } from '../../helpers/commerce.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { deleteKeys } from '../../helpers/redis.js';
import { waitFor } from '../../helpers/wait.js';
import { listen, openStream, type OpenStream } from './sse-client.js';
import { newPrefix } from './setup.js';

const twoProcesses = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);

interface Api {
  app: FastifyInstance;
  deps: Deps;
  base: string;
}

describe(`order status events${twoProcesses ? ' on two API processes' : ' (one process: two need DATABASE_URL and REDIS_URL)'}`, () => {
  let database: TestDatabase;
  const prefix = newPrefix();
  const logs: string[] = [];
  const apis: Api[] = [];
  let a: Api;
  let b: Api;

  async function start(migrate: boolean): Promise<Api> {
    const config = testConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'info' });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString('utf8'));
        done();
      },
    });
    const deps = await buildDeps(config, {
      migrate,
      pgliteDir: null,
      redisPrefix: prefix,
      log: createLogger(config, sink),
    });
    const app = await buildApp(deps);
    const api = { app, deps, base: await listen(app) };
    apis.push(api);
    return api;
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    a = await start(true);
    b = twoProcesses ? await start(false) : a;
  });
  afterAll(async () => {
    for (const api of apis.reverse()) {
      await api.app.close();
      await api.deps.close();
      rmSync(api.deps.config.dataDir, { recursive: true, force: true });
    }
    if (process.env.REDIS_URL) await deleteKeys(process.env.REDIS_URL, prefix);
    await database?.drop();
  });

  let staffHeaders: Record<string, string>;
  beforeAll(async () => {
    staffHeaders = (await signedInUser(b.app, b.deps, { isStaff: true })).headers;
  });

  async function newOrder() {
    const customer = await signedInUser(b.app, b.deps);
    const { variant } = await makeVariant(b.deps, { stock: 10 });
    const res = await placeOrder(b.app, customer.headers, { items: [{ variant: variant.id, quantity: 1 }] });
    expect(res.statusCode, res.body).toBe(201);
    return { customer, order: res.json<{ id: string }>() };
  }

  async function move(orderId: string, status: string) {
    const res = await b.app.inject({
      method: 'POST',
      url: `/api/orders/${orderId}/status/`,
      headers: staffHeaders,
      payload: { status },
    });
    expect(res.statusCode, res.body).toBe(200);
  }

  const url = (api: Api, orderId: string) => `${api.base}/api/orders/${orderId}/events/`;
  const data = (s: OpenStream) =>
    s.events.map((e) => JSON.parse(e.data) as { to: string; from: string | null });

  it('starts with the current status and carries a change made through B to a stream on A within a second', async () => {
    const { customer, order } = await newOrder();
    const stream = await openStream(`${url(a, order.id)}?access_token=${customer.access}`);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    await stream.waitForEvents(1);
    const first = stream.events[0]!;
    expect(first.event).toBe('status');
    expect(JSON.parse(first.data)).toMatchObject({ order: order.id, from: null, to: 'pending' });
    expect(Object.keys(JSON.parse(first.data)).sort()).toEqual(['at', 'from', 'order', 'to']);

    const started = Date.now();
    await move(order.id, 'confirmed');
    await stream.waitForEvents(2, 1000);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(JSON.parse(stream.events[1]!.data)).toMatchObject({ from: 'pending', to: 'confirmed' });
    expect(Number(stream.events[1]!.id)).toBeGreaterThan(Number(first.id));

    for (const status of ['processing', 'shipped', 'delivered']) await move(order.id, status);
    await stream.ended;
    expect(data(stream).map((d) => d.to)).toEqual([
      'pending',
      'confirmed',
      'processing',
      'shipped',
      'delivered',
    ]);
    const ids = stream.events.map((e) => Number(e.id));
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);

    // The final status seen: a reconnect is told to stop (204); without the id it hears the end once more.
    const again = await fetch(url(a, order.id), {
      headers: { ...customer.headers, 'last-event-id': String(ids.at(-1)) },
    });
    expect(again.status).toBe(204);
    const fresh = await openStream(url(a, order.id), customer.headers);
    await fresh.ended;
    expect(data(fresh).map((d) => d.to)).toEqual(['delivered']);
  });

  it('replays what a reconnecting client missed, in order, then goes live', async () => {
    const { customer, order } = await newOrder();
    // The client saw the first event, then lost its connection.
    const before = await openStream(url(a, order.id), customer.headers);
    await before.waitForEvents(1);
    before.close();
    const firstId = before.events[0]!.id!;
    await move(order.id, 'confirmed');
    await move(order.id, 'processing');
    const stream = await openStream(url(a, order.id), {
      ...customer.headers,
      'last-event-id': String(firstId),
    });
    await stream.waitForEvents(2);
    expect(data(stream).map((d) => d.to)).toEqual(['confirmed', 'processing']);
    await move(order.id, 'cancelled');
    await stream.ended;
    expect(data(stream).map((d) => d.to)).toEqual(['confirmed', 'processing', 'cancelled']);
    // `?lastEventId=` for clients that cannot set the header.
    const viaQuery = await openStream(`${url(b, order.id)}?lastEventId=${firstId}`, customer.headers);
    await viaQuery.ended;
    expect(data(viaQuery).map((d) => d.to)).toEqual(['confirmed', 'processing', 'cancelled']);
  });

  it('is for the owner and staff only', async () => {
    const { order } = await newOrder();
    const other = await signedInUser(a.app, a.deps);
    expect((await fetch(url(a, order.id), { headers: other.headers })).status).toBe(404);
    const anonymous = await fetch(url(a, order.id));
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toHaveProperty('detail');
    expect((await fetch(url(a, 'not-a-uuid'), { headers: staffHeaders })).status).toBe(404);
    expect(
      (await fetch(url(a, '00000000-0000-4000-8000-000000000000'), { headers: staffHeaders })).status,
    ).toBe(404);
    const staff = await openStream(url(a, order.id), staffHeaders);
    expect(staff.status).toBe(200);
    await staff.waitForEvents(1);
    staff.close();
  });

  it('refuses a sixth stream of one user with 429, counted across processes', async () => {
    const { customer, order } = await newOrder();
    const open: OpenStream[] = [];
    for (const api of [a, a, a, b, b]) open.push(await openStream(url(api, order.id), customer.headers));
    expect(open.map((s) => s.status)).toEqual([200, 200, 200, 200, 200]);
    for (const api of [a, b]) {
      const res = await fetch(url(api, order.id), { headers: customer.headers });
      expect(res.status).toBe(429);
      expect(await res.json()).toEqual({
        detail: 'Too many open event streams: at most 5 per user. Close one and try again.',
      });
    }
    open[0]!.close();
    let replacement: OpenStream | undefined;
    await waitFor(
      async () => {
        const s = await openStream(url(a, order.id), customer.headers);
        if (s.status === 200) replacement = s;
        return s.status === 200;
      },
      5000,
      'the freed slot',
    );
    for (const s of [...open, replacement!]) s.close();
  });

  it('never logs the access token', () => {
    const logged = logs.join('');
    expect(logged).toContain('access_token=[Redacted]');
    expect(logged).not.toMatch(/access_token=(?!\[Redacted\])/);
  });
});
