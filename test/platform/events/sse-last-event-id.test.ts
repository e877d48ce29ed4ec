/**
 * `Last-Event-ID` as a number or null: the header (EventSource sends it on reconnect), else the
 * `lastEventId` query parameter; anything but a non-negative integer of at most 15 digits is null.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastEventIdOf } from '../../../src/platform/http/sse.js';
import { createTestApp, type TestApp } from '../../helpers/app.js';

describe('Last-Event-ID parsing', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      runJobs: false,
      plugins: [
        // eslint-disable-next-line @typescript-eslint/require-await
        async (app) => {
          app.get('/probe/last-event-id/', (request) => Promise.resolve({ id: lastEventIdOf(request) }));
        },
      ],
    });
  });
  afterAll(() => t?.close());

  const idOf = async (query: string, headers: Record<string, string> = {}) => {
    const res = await t.app.inject({ url: `/probe/last-event-id/${query}`, headers });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ id: number | null }>().id;
  };

  it.each([
    ['42', 42],
    [' 7 ', 7],
    ['0', 0],
    ['999999999999999', 999999999999999],
    ['1000000000000000', null],
    ['-1', null],
    ['1e3', null],
    ['0x10', null],
    ['3.5', null],
    ['abc', null],
    ['', null],
  ])('header %j → %j', async (header, expected) => {
    expect(await idOf('', { 'last-event-id': header })).toBe(expected);
  });

  it('reads the lastEventId query parameter when there is no usable header', async () => {
    expect(await idOf('?lastEventId=12')).toBe(12);
    expect(await idOf('?lastEventId=x')).toBeNull();
    expect(await idOf('?lastEventId=12', { 'last-event-id': 'junk' })).toBe(12);
    expect(await idOf('')).toBeNull();
  });

  it('prefers the header, which EventSource keeps current on reconnects', async () => {
    expect(await idOf('?lastEventId=3', { 'last-event-id': '9' })).toBe(9);
  });
});
