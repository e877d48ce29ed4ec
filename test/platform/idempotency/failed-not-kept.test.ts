/**
 * Issue 9, acceptance 4: an answer the use case throws (a 400 here) is not kept, so the client may
 * fix the request and send it again with the same key.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { createProbeApp, keyRows, post, probeRows } from './probe.js';

let t: TestApp;
beforeAll(async () => {
  t = await createProbeApp();
});
afterAll(() => t.close());

it('keeps no 400 thrown by the use case: the fixed retry with the same key succeeds', async () => {
  const refused = await post(t.app, { label: 'invalid' }, { key: 'fix-me' });
  expect(refused.statusCode).toBe(400);
  expect(refused.json()).toEqual({ label: ['This label is not allowed.'] });
  expect(await keyRows(t.deps, 'fix-me')).toEqual([]);

  // The same wrong request again is refused again (run again, not replayed).
  const again = await post(t.app, { label: 'invalid' }, { key: 'fix-me' });
  expect(again.statusCode).toBe(400);
  expect(again.headers['idempotent-replayed']).toBeUndefined();

  const fixed = await post(t.app, { label: 'fixed' }, { key: 'fix-me' });
  expect(fixed.statusCode).toBe(201);
  expect(fixed.headers['idempotent-replayed']).toBeUndefined();
  expect((await probeRows(t.deps)).map((r) => r.label)).toEqual(['fixed']);
});

it('keeps no 400 of the route schema either (the use case never ran)', async () => {
  const refused = await post(t.app, { tags: {} }, { key: 'schema-400' });
  expect(refused.statusCode).toBe(400);
  expect(refused.json()).toEqual({ label: ['This field is required.'] });
  expect(await keyRows(t.deps, 'schema-400')).toEqual([]);
  const fixed = await post(t.app, { label: 'schema-fixed', tags: {} }, { key: 'schema-400' });
  expect(fixed.statusCode).toBe(201);
});
