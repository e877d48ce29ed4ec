import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { Rate } from '../config.js';
import { throttled } from './errors/http-errors.js';

/** Per-route throttle settings, in the route's `config.throttle`. */
export interface RouteThrottle {
  /** A named scope counted on top of the global anonymous/user rate. */
  scope?: string;
  /** Count the scope per client IP even for signed-in callers (the `auth` scope). */
  perIp?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `false`: never throttled (health, docs). */
    throttle?: RouteThrottle | false;
  }
}

export interface ThrottleOptions {
  enabled: boolean;
  anon: Rate;
  user: Rate;
  scopes: Record<string, Rate>;
  redis?: Redis | undefined;
  prefix: string;
  /** The signed-in caller's id, if any; read after authentication. */
  userIdOf: (request: FastifyRequest) => string | null;
}

function limiter(options: ThrottleOptions, name: string, rate: Rate): RateLimiterAbstract {
  const base = { keyPrefix: `${options.prefix}rl:${name}`, points: rate.points, duration: rate.seconds };
  if (!options.redis) return new RateLimiterMemory(base);
  // While Redis is down each process counts on its own rather than refusing or ignoring limits.
  return new RateLimiterRedis({
    ...base,
    storeClient: options.redis,
    insuranceLimiter: new RateLimiterMemory(base),
  });
}

/**
 * DRF-style throttling: every request counts against the anonymous (per IP) or user rate,
 * and against its route's scope if it has one. Over a limit: 429 with `Retry-After`.
 */
export const throttlePlugin = fp(
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app: FastifyInstance, options: ThrottleOptions) => {
    if (!options.enabled) return;
    const anon = limiter(options, 'anon', options.anon);
    const user = limiter(options, 'user', options.user);
    const scopes = new Map(
      Object.entries(options.scopes).map(([name, rate]) => [name, limiter(options, name, rate)]),
    );

    app.addHook('preHandler', async (request) => {
      const config = request.routeOptions.config.throttle;
      if (config === false) return;
      const userId = options.userIdOf(request);
      const checks: Array<[RateLimiterAbstract, string]> = [
        userId ? [user, `u:${userId}`] : [anon, `ip:${request.ip}`],
      ];
      if (config?.scope) {
        const scoped = scopes.get(config.scope);
        if (!scoped) throw new Error(`Unknown throttle scope ${config.scope}`);
        checks.push([scoped, userId && !config.perIp ? `u:${userId}` : `ip:${request.ip}`]);
      }
      let waitMs = 0;
      for (const [rateLimiter, key] of checks) {
        try {
          await rateLimiter.consume(key);
        } catch (res) {
          if (!(res instanceof RateLimiterRes)) throw res;
          waitMs = Math.max(waitMs, res.msBeforeNext);
        }
      }
      if (waitMs > 0) throw throttled(Math.max(1, Math.ceil(waitMs / 1000)));
    });
  },
  { name: 'throttle' },
);
