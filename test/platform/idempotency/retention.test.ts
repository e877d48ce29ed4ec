/** Issue 9, acceptance 4: a key is kept 24 hours; after that (clock injected) it is forgotten. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { createProbeApp, keyRows, manualClock, post, probeRows } from './probe.js';

const HOUR = 60 * 60 * 1000;
const time = manualClock();
let t: TestApp;
beforeAll(async () => {
  t = await createProbeApp({ clock: time.clock });
});
afterAll(() => t.close());

it('replays within 24 hours, and forgets the key after them', async () => {
  const first = await post(t.app, { label: 'day-one' }, { key: 'old-key' });
  expect(first.statusCode).toBe(201);

  time.advance(24 * HOUR); // exactly 24 h: still kept
  const replay = await post(t.app, { label: 'day-one' }, { key: 'old-key' });
  expect(replay.headers['idempotent-replayed']).toBe('true');
  expect(replay.body).toBe(first.body);
  expect(await probeRows(t.deps)).toHaveLength(1);

  time.advance(1); // older than 24 h: forgotten, the same request runs again
  const fresh = await post(t.app, { label: 'day-one' }, { key: 'old-key' });
  expect(fresh.statusCode).toBe(201);
  expect(fresh.headers['idempotent-replayed']).toBeUndefined();
  expect(fresh.json<{ id: number }>().id).not.toBe(first.json<{ id: number }>().id);
  expect(await probeRows(t.deps)).toHaveLength(2);
  const [key] = await keyRows(t.deps, 'old-key');
  expect(key!.createdAt).toEqual(time.clock());
  expect(key!.responseBody).toBe(fresh.body);
});

it('takes a forgotten key for another body too, rather than answering 422', async () => {
  await post(t.app, { label: 'yesterday' }, { key: 'reused-key' });
  const soon = await post(t.app, { label: 'today' }, { key: 'reused-key' });
  expect(soon.statusCode).toBe(422);
  time.advance(25 * HOUR);
  const later = await post(t.app, { label: 'today' }, { key: 'reused-key' });
  expect(later.statusCode).toBe(201);
  expect(later.json()).toMatchObject({ label: 'today' });
  expect(await keyRows(t.deps, 'reused-key')).toHaveLength(1);
});
