/**
 * A probe POST route on `respondIdempotently`, for the Idempotency-Key tests: it inserts a row into
 * `idem_probe` and answers 201 with it. Callers sign in with `x-probe-user: <id>` (the platform
 * tests replace the authenticator). The label decides failures: `invalid` is a 400 thrown before
 * any write, `explode` a 500 thrown after the insert.
 */
import { eq, sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyRequest, LightMyRequestResponse } from 'fastify';
import type { Deps } from '../../../src/deps.js';
import type { Principal } from '../../../src/platform/auth.js';
import { queryRows } from '../../../src/platform/db/client.js';
import { badRequest } from '../../../src/platform/errors/http-errors.js';
import { idempotencyKeys } from '../../../src/platform/idempotency/tables.js';
import { respondIdempotently } from '../../../src/platform/idempotency/index.js';
import { createTestApp, type TestApp, type TestAppOptions } from '../../helpers/app.js';

export const PROBE_URL = '/probe/items/';

export interface ProbeRow {
  id: number;
  owner: number;
  label: string;
}

export const probeUser = (request: FastifyRequest): Promise<Principal | null> => {
  const id = request.headers['x-probe-user'];
  return Promise.resolve(typeof id === 'string' ? { userId: Number(id), isStaff: false } : null);
};

/** Creates the probe table (once per database) and registers the route. */
export function probePlugin(deps: () => Deps) {
  return async (app: FastifyInstance) => {
    app.post(
      '/probe/items/',
      {
        schema: {
          body: {
            type: 'object',
            required: ['label'],
            properties: { label: { type: 'string' }, tags: { type: 'object' } },
          },
        },
      },
      (request, reply) =>
        respondIdempotently(deps(), request, reply, async (tx, key) => {
          const { label } = request.body as { label: string };
          if (label === 'invalid') throw badRequest({ label: ['This label is not allowed.'] });
          const [row] = await queryRows<ProbeRow>(
            tx,
            sql`INSERT INTO idem_probe (owner, label, idempotency_key)
                VALUES (${request.principal?.userId ?? 0}, ${label}, ${key})
                RETURNING id, owner, label`,
          );
          if (label === 'explode') throw new Error('the use case failed after its insert');
          return { status: 201, body: { ...row, created: true } };
        }),
    );
    return Promise.resolve();
  };
}

export async function createProbeTable(deps: Deps): Promise<void> {
  await deps.db.execute(
    sql`CREATE TABLE IF NOT EXISTS idem_probe (
          id serial PRIMARY KEY, owner integer NOT NULL, label text NOT NULL, idempotency_key text)`,
  );
}

/** An app with the probe route and table; `clock` (if any) is the app's `deps.clock`. */
export async function createProbeApp(options: TestAppOptions = {}): Promise<TestApp> {
  const built: { deps?: Deps } = {};
  const t = await createTestApp({
    authenticate: probeUser,
    ...options,
    plugins: [probePlugin(() => built.deps!), ...(options.plugins ?? [])],
  });
  built.deps = t.deps;
  await createProbeTable(t.deps);
  return t;
}

export function post(
  app: FastifyInstance,
  payload: unknown,
  { key, user = 1, url = PROBE_URL }: { key?: string; user?: number | null; url?: string } = {},
): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = {};
  if (key !== undefined) headers['idempotency-key'] = key;
  if (user !== null) headers['x-probe-user'] = String(user);
  return app.inject({ method: 'POST', url, headers, payload: payload as Record<string, unknown> });
}

export const probeRows = (deps: Deps) =>
  queryRows<ProbeRow & { idempotency_key: string | null }>(
    deps.db,
    sql`SELECT id, owner, label, idempotency_key FROM idem_probe ORDER BY id`,
  );

export const keyRows = (deps: Deps, key?: string) =>
  key === undefined
    ? deps.db.select().from(idempotencyKeys)
    : deps.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, key));

/** A clock the test moves by hand. */
export function manualClock(start = new Date('2030-06-01T12:00:00.000Z')) {
  let now = start.getTime();
  return {
    clock: () => new Date(now),
    advance: (ms: number) => void (now += ms),
  };
}
