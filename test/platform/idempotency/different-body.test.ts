/** Issue 9, acceptance 4: the same key with another body is a 422, and the first answer stays. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { createProbeApp, keyRows, post, probeRows } from './probe.js';

let t: TestApp;
beforeAll(async () => {
  t = await createProbeApp();
});
afterAll(() => t.close());

it('answers 422 to the same key with another body, writes nothing, and still replays the first', async () => {
  const first = await post(t.app, { label: 'first' }, { key: 'k-422' });
  expect(first.statusCode).toBe(201);

  for (const other of [{ label: 'second' }, { label: 'first', tags: {} }]) {
    const res = await post(t.app, other, { key: 'k-422' });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({ detail: 'This Idempotency-Key was used with a different request.' });
    expect(res.headers['idempotent-replayed']).toBeUndefined();
  }

  expect((await probeRows(t.deps)).map((r) => r.label)).toEqual(['first']);
  const [key] = await keyRows(t.deps, 'k-422');
  expect(key).toMatchObject({ state: 'done', responseBody: first.body });
  const again = await post(t.app, { label: 'first' }, { key: 'k-422' });
  expect(again.headers['idempotent-replayed']).toBe('true');
  expect(again.body).toBe(first.body);
});
