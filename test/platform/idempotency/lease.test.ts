/**
 * A `running` key: while its lease lasts, a twin hears 409; a lease that ran out was left by a
 * process that died, and the next request takes the key over. A holder that is alive but slow
 * (lease run out, transaction still open) is never taken over: the takeover waits for its lock.
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Deps } from '../../../src/deps.js';
import { queryRows } from '../../../src/platform/db/client.js';
import {
  IDEMPOTENCY_LEASE_MS,
  requestFingerprint,
  respondIdempotently,
} from '../../../src/platform/idempotency/index.js';
import { idempotencyKeys } from '../../../src/platform/idempotency/tables.js';
import type { TestApp } from '../../helpers/app.js';
import { waitFor } from '../../helpers/wait.js';
import { createProbeApp, keyRows, manualClock, post, probeRows } from './probe.js';

const postgres = Boolean(process.env.DATABASE_URL);
const time = manualClock();
let t: TestApp;
let deps: Deps | undefined;

/** A use case that waits, inside its transaction, until the test opens the gate. */
let entered: () => void = () => undefined;
let gate: Promise<void> = Promise.resolve();
const gated = (app: FastifyInstance) => {
  app.post('/probe/gated/', (request, reply) =>
    respondIdempotently(deps!, request, reply, async (tx, key) => {
      const [row] = await queryRows<{ id: number }>(
        tx,
        sql`INSERT INTO idem_probe (owner, label, idempotency_key) VALUES (1, 'gated', ${key}) RETURNING id`,
      );
      entered();
      await gate;
      return { status: 201, body: row };
    }),
  );
  return Promise.resolve();
};

beforeAll(async () => {
  t = await createProbeApp({ clock: time.clock, plugins: [gated] });
  deps = t.deps;
});
afterAll(() => t.close());

/** The row another process would have left: claimed for this very request, never finished. */
async function leftRunning(key: string, leaseUntil: Date) {
  await t.deps.db.insert(idempotencyKeys).values({
    scope: 'user:1 POST /probe/items',
    key,
    fingerprint: requestFingerprint('POST', '/probe/items', { label: 'leased' }),
    state: 'running',
    leaseUntil,
    createdAt: new Date(time.clock().getTime() - 1000),
  });
}

it('answers 409 while the lease of a running request lasts, and writes nothing', async () => {
  const lease = new Date(time.clock().getTime() + 1000);
  await leftRunning('live-lease', lease);
  const res = await post(t.app, { label: 'leased' }, { key: 'live-lease' });
  expect(res.statusCode).toBe(409);
  expect(res.json()).toEqual({ detail: 'A request with this Idempotency-Key is in progress.' });
  expect(await probeRows(t.deps)).toEqual([]);
  const [row] = await keyRows(t.deps, 'live-lease');
  expect(row).toMatchObject({ state: 'running', leaseUntil: lease });
});

it('takes over a running key whose lease ran out (its process died) and records the answer', async () => {
  await leftRunning('dead-lease', new Date(time.clock().getTime() - 1));
  const res = await post(t.app, { label: 'leased' }, { key: 'dead-lease' });
  expect(res.statusCode).toBe(201);
  expect(res.headers['idempotent-replayed']).toBeUndefined();
  const [row] = await keyRows(t.deps, 'dead-lease');
  expect(row).toMatchObject({ state: 'done', responseStatus: 201, responseBody: res.body });
  const replay = await post(t.app, { label: 'leased' }, { key: 'dead-lease' });
  expect(replay.headers['idempotent-replayed']).toBe('true');
});

it('does not take over a live holder whose lease ran out: the twin waits for it and replays its answer', async () => {
  let open!: () => void;
  gate = new Promise((resolve) => (open = resolve));
  const inside = new Promise<void>((resolve) => (entered = resolve));
  const first = t.app.inject({
    method: 'POST',
    url: '/probe/gated/',
    headers: { 'x-probe-user': '1', 'idempotency-key': 'slow' },
    payload: {},
  });
  await inside;
  time.advance(IDEMPOTENCY_LEASE_MS + 1);
  const twin = t.app.inject({
    method: 'POST',
    url: '/probe/gated/',
    headers: { 'x-probe-user': '1', 'idempotency-key': 'slow' },
    payload: {},
  });
  try {
    if (postgres) {
      // The twin's takeover is blocked on the holder's row lock (PGlite: on its one session).
      await waitFor(
        async () =>
          (
            await queryRows<{ n: number }>(
              t.deps.db,
              sql`SELECT count(*)::int AS n FROM pg_stat_activity
                  WHERE datname = current_database() AND wait_event_type = 'Lock'`,
            )
          )[0]!.n === 1,
        10_000,
        'the takeover to wait for the lock',
      );
    }
  } finally {
    open();
  }
  const [a, b] = await Promise.all([first, twin]);
  expect(a.statusCode).toBe(201);
  expect(b.statusCode).toBe(201);
  expect(b.headers['idempotent-replayed']).toBe('true');
  expect(b.body).toBe(a.body);
  expect((await probeRows(t.deps)).filter((r) => r.label === 'gated')).toHaveLength(1);
});
