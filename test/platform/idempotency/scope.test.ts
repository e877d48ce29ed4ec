/**
 * Issue 9, acceptance 4: a key belongs to its caller and its route. Another user's request with the
 * same key is a request of its own; anonymous callers cannot use a key (see the README).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Deps } from '../../../src/deps.js';
import { respondIdempotently } from '../../../src/platform/idempotency/index.js';
import type { TestApp } from '../../helpers/app.js';
import { createProbeApp, keyRows, post, probeRows } from './probe.js';

let t: TestApp;
let deps: Deps | undefined;
beforeAll(async () => {
  // A second route on the same use case: the same key there is another request.
  const second = (app: FastifyInstance) => {
    app.post('/probe/other/', (request, reply) =>
      respondIdempotently(deps!, request, reply, () =>
        Promise.resolve({ status: 200, body: { other: true } }),
      ),
    );
    return Promise.resolve();
  };
  t = await createProbeApp({ plugins: [second] });
  deps = t.deps;
});
afterAll(() => t.close());

it('keeps the same key of another user apart: a separate row and its own answer', async () => {
  const mine = await post(t.app, { label: 'shared' }, { key: 'same-key', user: 1 });
  const theirs = await post(t.app, { label: 'shared' }, { key: 'same-key', user: 2 });
  expect([mine.statusCode, theirs.statusCode]).toEqual([201, 201]);
  expect(theirs.headers['idempotent-replayed']).toBeUndefined();
  expect(theirs.json<{ id: number }>().id).not.toBe(mine.json<{ id: number }>().id);

  const rows = await probeRows(t.deps);
  expect(rows.map((r) => [r.owner, r.label])).toEqual([
    [1, 'shared'],
    [2, 'shared'],
  ]);
  expect(await keyRows(t.deps, 'same-key')).toHaveLength(2);

  // Each one's replay is their own answer.
  const mineAgain = await post(t.app, { label: 'shared' }, { key: 'same-key', user: 1 });
  const theirsAgain = await post(t.app, { label: 'shared' }, { key: 'same-key', user: 2 });
  expect(mineAgain.body).toBe(mine.body);
  expect(theirsAgain.body).toBe(theirs.body);
});

it('keeps the same key on another route apart', async () => {
  const probe = await post(t.app, { label: 'route' }, { key: 'route-key' });
  const other = await post(t.app, { label: 'route' }, { key: 'route-key', url: '/probe/other/' });
  expect(probe.statusCode).toBe(201);
  expect(other.statusCode).toBe(200);
  expect(other.json()).toEqual({ other: true });
  expect(other.headers['idempotent-replayed']).toBeUndefined();
});

it('refuses a key from an anonymous caller, and runs nothing', async () => {
  const before = (await probeRows(t.deps)).length;
  const res = await post(t.app, { label: 'anonymous' }, { key: 'anon-key', user: null });
  expect(res.statusCode).toBe(400);
  expect(res.json()).toEqual({ 'Idempotency-Key': ['Sign in to use an Idempotency-Key.'] });
  expect(await probeRows(t.deps)).toHaveLength(before);
  expect(await keyRows(t.deps, 'anon-key')).toEqual([]);
});
