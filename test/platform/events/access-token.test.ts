/**
 * `?access_token=` for EventSource: a route that opts in (`config: { tokenInQuery: true }`)
 * authenticates with it through the real accounts authenticator when there is no Authorization
 * header; other routes ignore it; a bad one is the usual 401. Its value never reaches the logs,
 * on any route (Fastify logs `req.url`): the logger's request serializer redacts it, however the
 * parameter name is escaped.
 */
import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { buildDeps, createLogger, redactUrl, type Deps } from '../../../src/deps.js';
import { eventStreams } from '../../../src/platform/http/sse.js';
import { signedInUser } from '../../helpers/accounts.js';
import { testConfig } from '../../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { deleteKeys } from '../../helpers/redis.js';
import { listen, openStream } from './sse-client.js';
import { newPrefix } from './setup.js';

describe('access_token in the query', () => {
  let database: TestDatabase;
  let deps: Deps;
  let app: FastifyInstance;
  let base: string;
  let lines: string[];
  const prefix = newPrefix();
  const config = () => deps.config;

  beforeAll(async () => {
    database = await createTestDatabase();
    const cfg = testConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'info' });
    lines = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    deps = await buildDeps(cfg, {
      migrate: true,
      pgliteDir: null,
      redisPrefix: prefix,
      log: createLogger(cfg, sink),
    });
    app = await buildApp(deps, {
      plugins: [
        // eslint-disable-next-line @typescript-eslint/require-await
        async (scope) => {
          const streams = eventStreams(scope, { redis: deps.redis, prefix, log: deps.log });
          scope.get('/probe/whoami-query/', { config: { tokenInQuery: true } }, (request) =>
            Promise.resolve({ user: request.principal?.userId ?? null }),
          );
          scope.get('/probe/whoami/', (request) =>
            Promise.resolve({ user: request.principal?.userId ?? null }),
          );
          scope.get('/probe/stream/', { config: { tokenInQuery: true } }, async (request, reply) => {
            if (!request.principal)
              return reply.code(401).send({ detail: 'Authentication credentials were not provided.' });
            const stream = await streams.open(request, reply, { owner: String(request.principal.userId) });
            stream.send({ event: 'whoami', data: { user: request.principal.userId } });
            stream.end();
          });
        },
      ],
    });
    base = await listen(app);
  });
  afterAll(async () => {
    await app?.close();
    await deps?.close();
    if (config()?.redisUrl) await deleteKeys(config().redisUrl!, prefix);
    await database?.drop();
    if (deps) rmSync(config().dataDir, { recursive: true, force: true });
  });

  it('authenticates an opted-in route with the token, and only that route', async () => {
    const { user, access } = await signedInUser(app, deps);
    const opted = await app.inject({ url: `/probe/whoami-query/?access_token=${access}` });
    expect(opted.statusCode).toBe(200);
    expect(opted.json()).toEqual({ user: user.id });
    expect(opted.headers['cache-control']).toBe('private');
    const other = await app.inject({ url: `/probe/whoami/?access_token=${access}` });
    expect(other.json()).toEqual({ user: null });
    const bad = await app.inject({ url: '/probe/whoami-query/?access_token=not-a-token' });
    expect(bad.statusCode).toBe(401);
    expect(bad.json()).toMatchObject({ code: 'token_not_valid' });
  });

  it('lets the Authorization header win over the query', async () => {
    const { user, access } = await signedInUser(app, deps);
    const res = await app.inject({
      url: '/probe/whoami-query/?access_token=garbage',
      headers: { authorization: `Bearer ${access}` },
    });
    expect(res.json()).toEqual({ user: user.id });
  });

  it('opens an SSE stream over real HTTP with the token in the query', async () => {
    const { user, access } = await signedInUser(app, deps);
    const stream = await openStream(`${base}/probe/stream/?access_token=${access}`);
    expect(stream.status).toBe(200);
    await stream.ended;
    expect(stream.events).toEqual([{ event: 'whoami', data: JSON.stringify({ user: user.id }) }]);
    const logged = lines.join('');
    expect(logged).not.toContain(access);
    expect(logged).toContain('access_token=[Redacted]');
  });

  it('never logs the token, on any route and however the name is escaped', async () => {
    lines.length = 0;
    await fetch(`${base}/probe/whoami/?a=1&access_token=secret123&b=2`);
    await fetch(`${base}/probe/whoami-query/?access_token=secret123`);
    await fetch(`${base}/no/such/route/?access%5Ftoken=secret123`);
    await fetch(`${base}/probe/whoami/?access_token=secret123&access_token=secret123`);
    const logged = lines.join('');
    expect(lines.length).toBeGreaterThan(0);
    expect(logged).toContain('"url":"/probe/whoami/?a=1&access_token=[Redacted]&b=2"');
    expect(logged).not.toContain('secret123');
  });

  it('redacts only the credential', () => {
    expect(redactUrl('/x/?page=2')).toBe('/x/?page=2');
    expect(redactUrl('/x/')).toBe('/x/');
    expect(redactUrl('/x/?access_token')).toBe('/x/?access_token=[Redacted]');
    expect(redactUrl('/x/?my_access_token=1&access_token=s')).toBe(
      '/x/?my_access_token=1&access_token=[Redacted]',
    );
    expect(redactUrl('/x/?access_%74oken=s&%ZZ=1')).toBe('/x/?access_%74oken=[Redacted]&%ZZ=1');
  });
});
