/**
 * Issue 9, acceptance 4: the same Idempotency-Key with the same request runs the use case once;
 * every later send gets the first answer, status and body byte for byte, marked as a replay.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { createProbeApp, keyRows, post, probeRows } from './probe.js';

let t: TestApp;
beforeAll(async () => {
  t = await createProbeApp();
});
afterAll(() => t.close());

it('answers the same key and body twice with one row, the same status and body, and Idempotent-Replayed', async () => {
  const first = await post(t.app, { label: 'one', tags: { a: 1, b: 2 } }, { key: 'replay-1' });
  expect(first.statusCode).toBe(201);
  expect(first.headers['idempotent-replayed']).toBeUndefined();
  expect(first.json()).toMatchObject({ label: 'one', created: true });

  const second = await post(t.app, { label: 'one', tags: { a: 1, b: 2 } }, { key: 'replay-1' });
  expect(second.statusCode).toBe(201);
  expect(second.headers['idempotent-replayed']).toBe('true');
  expect(second.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(second.body).toBe(first.body);

  const { id } = first.json<{ id: number }>();
  expect(await probeRows(t.deps)).toEqual([{ id, owner: 1, label: 'one', idempotency_key: 'replay-1' }]);
  const [key] = await keyRows(t.deps, 'replay-1');
  expect(key).toMatchObject({ state: 'done', responseStatus: 201, responseBody: first.body });
});

it('treats the body the same whatever its key order, and the path with or without its trailing slash', async () => {
  const first = await post(
    t.app,
    { label: 'order', tags: { a: 1, b: [1, { y: 2, x: 1 }] } },
    { key: 'replay-2' },
  );
  expect(first.statusCode).toBe(201);
  const reordered = await post(
    t.app,
    { tags: { b: [1, { x: 1, y: 2 }], a: 1 }, label: 'order' },
    { key: 'replay-2', url: '/probe/items' },
  );
  expect(reordered.statusCode).toBe(201);
  expect(reordered.headers['idempotent-replayed']).toBe('true');
  expect(reordered.body).toBe(first.body);
  expect((await probeRows(t.deps)).filter((r) => r.label === 'order')).toHaveLength(1);
});

it('runs every request without a key', async () => {
  const a = await post(t.app, { label: 'no-key' });
  const b = await post(t.app, { label: 'no-key' });
  expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
  expect(a.headers['idempotent-replayed']).toBeUndefined();
  expect(b.headers['idempotent-replayed']).toBeUndefined();
  expect(a.json<{ id: number }>().id).not.toBe(b.json<{ id: number }>().id);
  expect((await probeRows(t.deps)).filter((r) => r.label === 'no-key')).toHaveLength(2);
  expect(await keyRows(t.deps)).toHaveLength(2); // the two keyed requests above only
});
