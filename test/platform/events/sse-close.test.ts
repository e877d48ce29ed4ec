/**
 * Every way a stream ends: the route's `end()` (the client sees the body end), the client going
 * away (the server notices and runs its close listeners), and `app.close()` with streams open,
 * which ends them and returns promptly instead of waiting for clients that never hang up.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { FastifyPluginAsync } from 'fastify';
import { eventStreams, type EventStream, type StreamEndReason } from '../../../src/platform/http/sse.js';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { waitFor } from '../../helpers/wait.js';
import { listen, openStream } from './sse-client.js';
import { headerAuthenticator, silentLog } from './setup.js';

function probe(opened: EventStream[], reasons: StreamEndReason[]): FastifyPluginAsync {
  // eslint-disable-next-line @typescript-eslint/require-await
  return async (app) => {
    const streams = eventStreams(app, { redis: undefined, prefix: '', log: silentLog, heartbeatMs: 1000 });
    app.get<{ Querystring: { end?: string } }>('/probe/stream/', async (request, reply) => {
      const stream = await streams.open(request, reply, { owner: String(request.principal?.userId) });
      stream.onClose((reason) => reasons.push(reason));
      opened.push(stream);
      stream.send({ id: 1, event: 'hello', data: {} });
      if (request.query.end) stream.end();
    });
  };
}

describe('SSE streams end', () => {
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const t of apps) await t.close();
  });

  async function start() {
    const opened: EventStream[] = [];
    const reasons: StreamEndReason[] = [];
    const t = await createTestApp({
      runJobs: false,
      authenticate: headerAuthenticator,
      plugins: [probe(opened, reasons)],
    });
    apps.push(t);
    return { t, base: await listen(t.app), opened, reasons };
  }

  it('on end(): the client reads the events and the end of the body', async () => {
    const { base, reasons } = await start();
    const stream = await openStream(`${base}/probe/stream/?end=1`, { 'x-user': '1' });
    await stream.ended;
    expect(stream.events).toEqual([{ id: '1', event: 'hello', data: '{}' }]);
    expect(reasons).toEqual(['end']);
  });

  it('on client disconnect: the server notices and closes its side', async () => {
    const { base, opened, reasons } = await start();
    const stream = await openStream(`${base}/probe/stream/`, { 'x-user': '1' });
    await stream.waitForEvents(1);
    expect(opened[0]!.closed).toBe(false);
    stream.close();
    expect(await opened[0]!.finished).toBe('client');
    expect(reasons).toEqual(['client']);
    expect(opened[0]!.send({ data: 'late' })).toBe(false);
  });

  it('on app.close(): open streams end and close returns promptly', async () => {
    const { t, base, opened } = await start();
    const streams = await Promise.all(
      [1, 2, 3].map((user) => openStream(`${base}/probe/stream/`, { 'x-user': String(user) })),
    );
    await Promise.all(streams.map((s) => s.waitForEvents(1)));
    await waitFor(() => opened.length === 3, 5000, 'three open streams');
    const started = Date.now();
    await t.app.close();
    expect(Date.now() - started).toBeLessThan(2000);
    await Promise.all(streams.map((s) => s.ended));
    expect(await Promise.all(opened.map((s) => s.finished))).toEqual(['shutdown', 'shutdown', 'shutdown']);
  });
});
