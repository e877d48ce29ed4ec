import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { pino } from 'pino';
import type { Principal } from '../../../src/platform/auth.js';
import { PrivateRedis, deleteKeys, redisServerAvailable } from '../../helpers/redis.js';

/** Platform tests have no accounts: `x-user: 7` (or `Bearer user-7`) is user 7. */
export const headerAuthenticator = (request: FastifyRequest): Promise<Principal | null> => {
  const header =
    request.headers['x-user'] ?? /^Bearer user-(\d+)$/.exec(request.headers.authorization ?? '')?.[1];
  return Promise.resolve(typeof header === 'string' ? { userId: Number(header), isStaff: false } : null);
};

export const silentLog = pino({ level: 'silent' });

export const newPrefix = () => `test:${randomBytes(6).toString('hex')}:`;

/** The Redis of the run (REDIS_URL), else a private redis-server, else none (the test skips). */
export interface TestRedis {
  url: string;
  /** Only a private server can be stopped and started (the shared one belongs to everyone). */
  server: PrivateRedis | undefined;
  cleanup(prefix: string): Promise<void>;
  close(): Promise<void>;
}

export const redisAvailable = Boolean(process.env.REDIS_URL) || redisServerAvailable;

export async function testRedis(): Promise<TestRedis> {
  const server = process.env.REDIS_URL ? undefined : await PrivateRedis.start();
  const url = process.env.REDIS_URL ?? server!.url;
  return {
    url,
    server,
    cleanup: (prefix) => deleteKeys(url, prefix),
    close: async () => {
      await server?.stop();
    },
  };
}
