/**
 * The access log: one line per request, with what operators read (method, URL without
 * credentials, status, time), at the default `info` level; in production through pino's
 * asynchronous destination, whose buffered lines survive the process exiting.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { buildDeps, createLogger, type Deps } from '../../src/deps.js';
import { testConfig } from '../helpers/app.js';
import { run } from '../helpers/process.js';
import type { FastifyInstance } from 'fastify';

let deps: Deps;
let app: FastifyInstance;
const lines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  const config = testConfig({ LOG_LEVEL: 'info', DATABASE_URL: undefined, REDIS_URL: undefined });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  deps = await buildDeps(config, { migrate: true, pgliteDir: null, log: createLogger(config, sink) });
  app = await buildApp(deps);
});

afterAll(async () => {
  await app?.close();
  await deps?.close();
});

describe('the access log', () => {
  it('writes one line per request, whatever its answer, and no other per-request line', async () => {
    lines.length = 0;
    const asked = [
      ['/health/live/', 200],
      ['/api/products/?min_price=abc', 400],
      ['/api/no-such-route/', 404],
      ['/api/cart/', 401],
      ['/health/live/?access_token=secret-value', 200],
    ] as const;
    for (const [url, status] of asked) expect((await app.inject({ url })).statusCode).toBe(status);

    const perRequest = lines.filter((l) => l.reqId !== undefined);
    const access = perRequest.filter((l) => l.msg === 'request completed');
    expect(access).toHaveLength(asked.length);
    expect(perRequest.filter((l) => l.msg !== 'request completed')).toEqual([]);
    for (const [i, line] of access.entries()) {
      expect(line).toMatchObject({ level: 30, method: 'GET', statusCode: asked[i]![1] });
      expect(typeof line.responseTime).toBe('number');
    }
    expect(access[4]!.url).toBe('/health/live/?access_token=[Redacted]');
    expect(JSON.stringify(lines)).not.toContain('secret-value');
  });

  it('logs at info by default outside tests', () => {
    expect(testConfig({ NODE_ENV: 'development', LOG_LEVEL: undefined }).logLevel).toBe('info');
  });

  it('in production, loses no buffered line when the process exits right after writing', async () => {
    const proc = run(process.execPath, ['--import', 'tsx', 'test/fixtures/log-burst.ts', '5000'], {});
    expect(await proc.exited).toBe(0);
    const burst = proc
      .output()
      .split('\n')
      .filter((l) => l.includes('"burst"'));
    expect(burst).toHaveLength(5000);
    expect(JSON.parse(burst[4999]!)).toMatchObject({ i: 4999 });
  });
});
