/**
 * A client that stops reading does not make the server buffer without bound: once its unsent bytes
 * pass the budget the stream is closed (reason `slow`; it reconnects and replays with
 * Last-Event-ID) and its slot given back, while a reading client on the same server is unaffected.
 */
import type { EventStream } from '../../../src/platform/http/sse.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventStreams, type EventStreams } from '../../../src/platform/http/sse.js';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { listen, openStream } from './sse-client.js';
import { headerAuthenticator, silentLog } from './setup.js';

describe('SSE back-pressure', () => {
  let t: TestApp;
  let base: string;
  let streams: EventStreams;
  const opened: EventStream[] = [];
  beforeAll(async () => {
    t = await createTestApp({
      runJobs: false,
      authenticate: headerAuthenticator,
      plugins: [
        // eslint-disable-next-line @typescript-eslint/require-await
        async (app) => {
          streams = eventStreams(app, {
            redis: undefined,
            prefix: '',
            log: silentLog,
            maxBufferBytes: 64 * 1024,
            maxPerOwner: 1,
          });
          app.get('/probe/stream/', async (request, reply) => {
            opened.push(await streams.open(request, reply, { owner: String(request.principal?.userId) }));
          });
        },
      ],
    });
    base = await listen(t.app);
  });
  afterAll(() => t?.close());

  it('closes the stream of a client that stops reading, and frees its slot', async () => {
    const slow = await openStream(`${base}/probe/stream/`, { 'x-user': '1' });
    slow.pause();
    const server = opened[0]!;
    const payload = { text: 'x'.repeat(1000) };
    let sent = 0;
    // Far more than the socket buffers hold: the budget must stop it well before.
    while (server.send({ id: sent, event: 'big', data: payload }) && sent < 100_000) {
      sent++;
      if (sent % 200 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(sent).toBeLessThan(100_000);
    expect(await server.finished).toBe('slow');
    // The user's one slot is free again.
    const again = await openStream(`${base}/probe/stream/`, { 'x-user': '1' });
    expect(again.status).toBe(200);
    again.close();
  });
});
