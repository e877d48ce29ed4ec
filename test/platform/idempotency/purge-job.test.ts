/**
 * The periodic `purge_idempotency_keys` job deletes the keys older than 24 hours (by the injected
 * clock), in batches, and no other.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PURGE_IDEMPOTENCY_KEYS, purgeIdempotencyKeys } from '../../../src/platform/idempotency/index.js';
import { idempotencyKeys } from '../../../src/platform/idempotency/tables.js';
import type { TestApp } from '../../helpers/app.js';
import { createProbeApp, keyRows, manualClock } from './probe.js';

const HOUR = 60 * 60 * 1000;
const time = manualClock();
let t: TestApp;
beforeAll(async () => {
  t = await createProbeApp({ clock: time.clock });
});
afterAll(() => t.close());

const at = (hoursAgo: number) => new Date(time.clock().getTime() - hoursAgo * HOUR);

async function addKeys(prefix: string, count: number, createdAt: Date, state: 'running' | 'done' = 'done') {
  await t.deps.db.insert(idempotencyKeys).values(
    Array.from({ length: count }, (_, i) => ({
      scope: 'user:1 POST /probe/items',
      key: `${prefix}-${i}`,
      fingerprint: 'f',
      state,
      leaseUntil: new Date(createdAt.getTime() + 60_000),
      responseStatus: state === 'done' ? 201 : null,
      responseBody: state === 'done' ? '{}' : null,
      createdAt,
    })),
  );
}

const keys = async () => (await keyRows(t.deps)).map((r) => r.key).sort();

it('is registered as an hourly job, and deletes the keys older than 24 hours only', async () => {
  const job = t.deps.jobs.registry.get(PURGE_IDEMPOTENCY_KEYS);
  expect(job?.everyMs).toBe(HOUR);

  await addKeys('old', 3, at(25));
  await addKeys('old-running', 1, at(48), 'running');
  await addKeys('edge', 1, at(24)); // exactly 24 h old: kept until it is older
  await addKeys('new', 2, at(1));

  await job!.run({}, { deps: t.deps, log: pino({ level: 'silent' }), jobId: 0, attempt: 1, requestId: null });
  expect(await keys()).toEqual(['edge-0', 'new-0', 'new-1']);

  // A second run finds nothing more to delete.
  await job!.run({}, { deps: t.deps, log: pino({ level: 'silent' }), jobId: 0, attempt: 1, requestId: null });
  expect(await keys()).toEqual(['edge-0', 'new-0', 'new-1']);
});

it('deletes in batches until none is left', async () => {
  await t.deps.db.delete(idempotencyKeys);
  await addKeys('batch', 7, at(30));
  await addKeys('keep', 1, at(2));
  expect(await purgeIdempotencyKeys(t.deps.db, time.clock(), 3)).toBe(7);
  expect(await keys()).toEqual(['keep-0']);
});
