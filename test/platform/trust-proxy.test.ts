/**
 * SPEC §2: `TRUST_PROXY` is a hop count or the proxies' addresses. The client IP used for
 * throttling is the one the nearest trusted proxy saw, never a value the client wrote.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

const PROXY = '10.0.0.2';

describe.each([
  { name: 'TRUST_PROXY=1', trust: '1' },
  { name: 'TRUST_PROXY=<the proxy address>', trust: `${PROXY},127.0.0.1/32` },
  { name: 'TRUST_PROXY=<the proxy range>', trust: '10.0.0.0/8' },
])('behind one proxy ($name)', ({ trust }) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: { TRUST_PROXY: trust, THROTTLE_ENABLED: 'true', THROTTLE_ANON: '3/hour' },
    });
  });
  afterAll(() => t.close());

  /** The proxy appends the address it saw to whatever `X-Forwarded-For` the client sent. */
  const viaProxy = (clientIp: string, clientWrote?: string) =>
    t.app.inject({
      method: 'GET',
      url: '/api/categories/',
      remoteAddress: PROXY,
      headers: { 'x-forwarded-for': clientWrote ? `${clientWrote}, ${clientIp}` : clientIp },
    });

  it('throttles a client that varies X-Forwarded-For by the address the proxy saw', async () => {
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await viaProxy('203.0.113.7', `198.51.100.${i}`)).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
  });

  it("cannot spend a victim's allowance by writing the victim's address", async () => {
    for (let i = 0; i < 5; i++) await viaProxy('203.0.113.8', '203.0.113.9');
    expect((await viaProxy('203.0.113.9')).statusCode).toBe(200);
  });
});

describe('TRUST_PROXY values', () => {
  const trustProxy = (value: string) =>
    loadConfig({ NODE_ENV: 'test', SECRET_KEY: 'k'.repeat(32), TRUST_PROXY: value }).trustProxy;

  it.each([
    ['false', false],
    ['0', false],
    ['', false],
    ['1', 1],
    ['2', 2],
    ['10.0.0.1', ['10.0.0.1']],
    ['10.0.0.0/8, 192.168.1.5', ['10.0.0.0/8', '192.168.1.5']],
    ['::1,fd00::/8', ['::1', 'fd00::/8']],
    ['loopback,uniquelocal', ['loopback', 'uniquelocal']],
  ])('reads %j', (value, expected) => {
    expect(trustProxy(value)).toEqual(expected);
  });

  it.each(['true', 'yes', '10.0.0.0/33', 'proxy.example', '1.2.3', '65', '10.0.0.1,'])(
    'refuses %j',
    (value) => {
      expect(() => trustProxy(value)).toThrow(ConfigError);
      expect(() => trustProxy(value)).toThrow(/^TRUST_PROXY must be false, a number of proxy hops/);
    },
  );
});
