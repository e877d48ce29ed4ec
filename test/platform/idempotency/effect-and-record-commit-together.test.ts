/**
 * The answer is recorded in the use case's own transaction: it exists exactly when the effects do.
 * A use case that fails after its writes leaves neither its rows nor the key behind, and the key
 * can be used again.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { createProbeApp, keyRows, post, probeRows } from './probe.js';

let t: TestApp;
beforeAll(async () => {
  t = await createProbeApp();
});
afterAll(() => t.close());

it('rolls back the insert and keeps no key when the use case throws after inserting', async () => {
  const failed = await post(t.app, { label: 'explode' }, { key: 'atomic' });
  expect(failed.statusCode).toBe(500);
  expect(failed.json()).toMatchObject({ detail: 'A server error occurred.' });
  expect(await probeRows(t.deps)).toEqual([]);
  expect(await keyRows(t.deps, 'atomic')).toEqual([]);

  // Nothing was kept, so the key is free for a request that works; that one is recorded.
  const ok = await post(t.app, { label: 'works' }, { key: 'atomic' });
  expect(ok.statusCode).toBe(201);
  const rows = await probeRows(t.deps);
  expect(rows.map((r) => r.label)).toEqual(['works']);
  const [key] = await keyRows(t.deps, 'atomic');
  expect(key).toMatchObject({ state: 'done', responseStatus: 201, responseBody: ok.body });
});
