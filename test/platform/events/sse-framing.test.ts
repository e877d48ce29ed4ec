/**
 * The SSE wire format over real HTTP: the headers (`text/event-stream`, no caching, no proxy
 * buffering, and the headers the hooks set, such as X-Request-Id), each event as `id:`, `event:`,
 * `data:` (JSON, one line, whatever the strings hold) and a blank line, and a comment heartbeat
 * at the configured interval.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventStreams, formatEvent } from '../../../src/platform/http/sse.js';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { waitFor } from '../../helpers/wait.js';
import { listen, openStream } from './sse-client.js';
import { silentLog } from './setup.js';

describe('SSE framing and heartbeat', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp({
      runJobs: false,
      plugins: [
        // eslint-disable-next-line @typescript-eslint/require-await
        async (app) => {
          const streams = eventStreams(app, {
            redis: undefined,
            prefix: '',
            log: silentLog,
            heartbeatMs: 50,
          });
          app.get('/probe/sse/', async (request, reply) => {
            const stream = await streams.open(request, reply);
            stream.send({ id: 1, event: 'status', data: { to: 'confirmed' } });
            stream.send({
              id: 2,
              event: 'note',
              data: { text: 'two\nlines\r\nand\rmore', emoji: '\u2028😀' },
            });
            stream.send({ data: 'plain' });
          });
          const withRetry = eventStreams(app, {
            redis: undefined,
            prefix: '',
            log: silentLog,
            retryMs: 3000,
          });
          app.get('/probe/sse-retry/', async (request, reply) => {
            const stream = await withRetry.open(request, reply);
            stream.send({ data: 1 });
            stream.end();
          });
        },
      ],
    });
    base = await listen(t.app);
  });
  afterAll(() => t?.close());

  it('sends the SSE headers, the hooks’ headers, and well-framed events', async () => {
    const stream = await openStream(`${base}/probe/sse/`, { 'x-request-id': 'sse-framing-1' });
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers['cache-control']).toBe('no-cache');
    expect(stream.headers['x-accel-buffering']).toBe('no');
    expect(stream.headers['x-request-id']).toBe('sse-framing-1');
    expect(stream.headers['content-length']).toBeUndefined();
    await stream.waitForEvents(3);
    expect(stream.events).toEqual([
      { id: '1', event: 'status', data: '{"to":"confirmed"}' },
      {
        id: '2',
        event: 'note',
        data: JSON.stringify({ text: 'two\nlines\r\nand\rmore', emoji: '\u2028😀' }),
      },
      { id: undefined, event: undefined, data: '"plain"' },
    ]);
    expect(JSON.parse(stream.events[1]!.data)).toEqual({
      text: 'two\nlines\r\nand\rmore',
      emoji: '\u2028😀',
    });
    expect(stream.raw()).toContain('id: 1\nevent: status\ndata: {"to":"confirmed"}\n\n');
    stream.close();
  });

  it('sends a comment heartbeat at the configured interval', async () => {
    const stream = await openStream(`${base}/probe/sse/`);
    await waitFor(() => stream.comments >= 3, 5000, 'three heartbeats');
    expect(stream.raw()).toMatch(/\n\n:\n\n/);
    stream.close();
  });

  it('tells EventSource its reconnection delay first, when configured', async () => {
    const stream = await openStream(`${base}/probe/sse-retry/`);
    await stream.ended;
    expect(stream.raw()).toBe('retry: 3000\n\ndata: 1\n\n');
  });

  it('refuses event names and ids that would break the framing', () => {
    expect(() => formatEvent({ event: 'a\nb', data: 1 })).toThrow(TypeError);
    expect(() => formatEvent({ id: '1\r2', data: 1 })).toThrow(TypeError);
    expect(formatEvent({ id: 7, event: 'status', data: null })).toBe('id: 7\nevent: status\ndata: null\n\n');
  });
});
