import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import path from 'node:path';

/** A throttle rate such as `100/hour`: `points` requests per `seconds`. */
export interface Rate {
  points: number;
  seconds: number;
  text: string;
}

export type NodeEnv = 'development' | 'production' | 'test';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  nodeEnv: NodeEnv;
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  /** Distinct parameterised statements each PostgreSQL connection keeps prepared. */
  databasePreparedStatements: number;
  /** PostgreSQL cancels a statement running longer than this; 0 for never. */
  databaseStatementTimeoutMs: number;
  redisUrl: string | undefined;
  redisPrefix: string;
  secretKey: string;
  siteUrl: string;
  defaultFromEmail: string;
  /** The shop's name in every e-mail's layout. */
  shopName: string;
  notifications: {
    abandonedCartIntervalMs: number;
    /** A cart with lines untouched this long gets a reminder. */
    abandonedCartAfterMs: number;
    lowStockIntervalMs: number;
  };
  email: {
    url: string | undefined;
    host: string | undefined;
    port: number;
    user: string | undefined;
    password: string | undefined;
    useTls: boolean;
  };
  jwtAccessTtlSeconds: number;
  jwtRefreshTtlSeconds: number;
  passwordResetUrl: string;
  jobs: { eager: boolean; maxRetries: number; backoffMs: number; pollMs: number; workerConcurrency: number };
  throttle: {
    enabled: boolean;
    anon: Rate;
    user: Rate;
    scopes: Record<'users' | 'payments' | 'products' | 'auth', Rate>;
  };
  cache: { enabled: boolean; productsTtlSeconds: number; paymentsTtlSeconds: number };
  demoData: boolean;
  /** Pricing (SPEC §5), as exact decimal strings. */
  pricing: { taxRate: string; shippingFlatRate: string; freeShippingThreshold: string };
  payments: {
    /** The gateways customers may pay through (`PAYMENT_GATEWAYS`); the payments module knows the names. */
    gateways: string[];
    /** Every secret a webhook signature may be made with; the first signs (the sandbox). Rotation: add, then drop. */
    webhookSecrets: string[];
  };
  /** A `pending` order older than this is cancelled (`payment timeout`); 0 for never. */
  orderPaymentTimeoutMs: number;
  corsOrigins: string[];
  logLevel: LogLevel;
  webConcurrency: number;
  /** Fastify's `trustProxy`: off, the number of proxy hops, or the proxies' addresses and CIDR ranges. */
  trustProxy: false | number | string[];
  shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

const DURATION = /^(\d+)\s*(ms|s|m|h|d)?$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const RATE = /^(\d+)\/(s|sec|second|m|min|minute|h|hour|d|day)$/;
const RATE_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Reads one variable; every parser names the variable and the expected form when the value is bad. */
class EnvReader {
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  fail(name: string, expected: string): never {
    throw new ConfigError(`${name} must be ${expected} (got ${JSON.stringify(this.env[name])})`);
  }

  /** A comma-separated list; set but empty is the empty list (unlike other variables, where blank means unset). */
  list(name: string, fallback: string): string[] {
    return (this.env[name] ?? fallback)
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  }

  str(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^-?\d+$/.test(value) || n < min || n > max) this.fail(name, `an integer from ${min} to ${max}`);
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(value)) return true;
    if (['false', '0', 'no', 'off'].includes(value)) return false;
    return this.fail(name, 'true or false');
  }

  /** A period of a periodic job: any duration from 1 s. */
  intervalMs(name: string, fallback: string): number {
    const ms = this.durationMs(name, fallback);
    if (ms < 1000) this.fail(name, 'a duration of at least 1s');
    return ms;
  }

  durationMs(name: string, fallback: string): number {
    const value = this.raw(name) ?? fallback;
    const match = DURATION.exec(value);
    if (!match) return this.fail(name, 'a duration such as 30s, 5m, 1h or 1d');
    return Number(match[1]) * DURATION_MS[match[2] ?? 's']!;
  }

  rate(name: string, fallback: string): Rate {
    const value = this.raw(name) ?? fallback;
    const match = RATE.exec(value);
    if (!match || Number(match[1]) < 1)
      return this.fail(name, 'a rate such as 100/hour (second, minute, hour or day)');
    return { points: Number(match[1]), seconds: RATE_SECONDS[match[2]![0]!]!, text: value };
  }

  /** A non-negative decimal kept as its canonical string (never a float): `0.08`, `5.00`. */
  decimal(name: string, fallback: string, maxPlaces: number): string {
    const value = this.raw(name) ?? fallback;
    const match = /^(\d{1,10})(?:\.(\d+))?$/.exec(value);
    if (!match || (match[2] ?? '').length > maxPlaces) {
      return this.fail(name, `a non-negative decimal with at most ${maxPlaces} places, such as ${fallback}`);
    }
    return value;
  }

  url(name: string, protocols: string[], fallback?: string): string | undefined {
    const value = this.raw(name) ?? fallback;
    if (value === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      return this.fail(name, `a URL (${protocols.join(', ')})`);
    }
    if (!protocols.includes(parsed.protocol.slice(0, -1))) this.fail(name, `a URL (${protocols.join(', ')})`);
    return value;
  }

  /**
   * `TRUST_PROXY`: `true` would trust every hop, so the left-most `X-Forwarded-For`, which the
   * client writes, would become its address; only a hop count or the proxies' addresses are taken.
   */
  trustProxy(name: string): false | number | string[] {
    const value = this.raw(name);
    if (value === undefined || ['false', 'no', 'off', '0'].includes(value.toLowerCase())) return false;
    const expected =
      'false, a number of proxy hops (1 behind one load balancer) or a comma-separated list of proxy addresses or CIDR ranges';
    if (/^\d+$/.test(value)) return Number(value) <= 64 ? Number(value) : this.fail(name, expected);
    const entries = value.split(',').map((e) => e.trim());
    const named = ['loopback', 'linklocal', 'uniquelocal'];
    const valid = (entry: string) => {
      if (named.includes(entry)) return true;
      const [address, prefix, ...rest] = entry.split('/');
      const family = isIP(address ?? '');
      if (family === 0 || rest.length > 0) return false;
      if (prefix === undefined) return true;
      return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
    };
    if (entries.length === 0 || !entries.every(valid)) this.fail(name, expected);
    return entries;
  }

  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const value = this.raw(name) ?? fallback;
    if (!(choices as readonly string[]).includes(value)) this.fail(name, `one of ${choices.join(', ')}`);
    return value as T;
  }
}

/** In development a secret is generated once and kept under the data folder, so it survives restarts. */
function developmentSecret(dataDir: string, name: string, prefix = ''): string {
  const file = path.join(dataDir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const key = prefix + randomBytes(48).toString('base64url');
  writeFileSync(file, key + '\n', { mode: 0o600 });
  return key;
}

export function loadConfig(env: Env = process.env): Config {
  const r = new EnvReader(env);
  const nodeEnv = r.oneOf('NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const production = nodeEnv === 'production';
  const dataDir = path.resolve(r.str('DATA_DIR', './data'));
  const databaseUrl = r.url('DATABASE_URL', ['postgres', 'postgresql']);
  const redisUrl = r.url('REDIS_URL', ['redis', 'rediss']);

  let secretKey = r.raw('SECRET_KEY');
  if (secretKey !== undefined && secretKey.length < 32) r.fail('SECRET_KEY', 'at least 32 characters long');
  if (secretKey === undefined) {
    if (production) r.fail('SECRET_KEY', 'set when NODE_ENV=production (at least 32 random characters)');
    secretKey = developmentSecret(dataDir, 'secret_key');
  }

  const port = r.int('PORT', 8000, 0, 65535);
  const siteUrl = r.url('SITE_URL', ['http', 'https'], `http://127.0.0.1:${port}`)!.replace(/\/+$/, '');
  const sharedState = databaseUrl !== undefined && redisUrl !== undefined;
  const webConcurrency = r.int(
    'WEB_CONCURRENCY',
    production && sharedState ? availableParallelism() : 1,
    1,
    256,
  );
  if (webConcurrency > 1 && !sharedState) {
    r.fail('WEB_CONCURRENCY', '1 unless both DATABASE_URL and REDIS_URL are set (processes share them)');
  }
  const jobsEager = r.bool('JOBS_EAGER', redisUrl === undefined);
  if (!jobsEager && redisUrl === undefined) r.fail('JOBS_EAGER', 'true when REDIS_URL is not set');

  const gateways = r.list('PAYMENT_GATEWAYS', production ? '' : 'sandbox');
  let webhookSecrets = r.list('PAYMENT_WEBHOOK_SECRET', '');
  if (webhookSecrets.some((s) => s.length < 24))
    r.fail('PAYMENT_WEBHOOK_SECRET', 'secrets of at least 24 characters');
  if (webhookSecrets.length === 0) {
    if (production && gateways.length > 0) {
      r.fail('PAYMENT_WEBHOOK_SECRET', 'set when NODE_ENV=production and PAYMENT_GATEWAYS names a gateway');
    }
    webhookSecrets = [developmentSecret(dataDir, 'payment_webhook_secret', 'whsec_')];
  }

  return {
    nodeEnv,
    port,
    host: r.str('HOST', '127.0.0.1'),
    dataDir,
    databaseUrl,
    databasePreparedStatements: r.int('DATABASE_PREPARED_STATEMENTS', 200, 0, 100_000),
    databaseStatementTimeoutMs: r.durationMs('DATABASE_STATEMENT_TIMEOUT', '30s'),
    redisUrl,
    redisPrefix: r.str('REDIS_PREFIX', 'nexus:'),
    secretKey,
    siteUrl,
    defaultFromEmail: r.str('DEFAULT_FROM_EMAIL', 'Nexus Commerce <no-reply@localhost>'),
    shopName: r.str('SHOP_NAME', 'Nexus Commerce'),
    notifications: {
      abandonedCartIntervalMs: r.intervalMs('ABANDONED_CART_INTERVAL', '1h'),
      abandonedCartAfterMs: r.intervalMs('ABANDONED_CART_AFTER', '1h'),
      lowStockIntervalMs: r.intervalMs('LOW_STOCK_INTERVAL', '30m'),
    },
    email: {
      url: r.url('EMAIL_URL', ['smtp', 'smtps']),
      host: r.raw('EMAIL_HOST'),
      port: r.int('EMAIL_PORT', 587, 1, 65535),
      user: r.raw('EMAIL_HOST_USER'),
      password: r.raw('EMAIL_HOST_PASSWORD'),
      useTls: r.bool('EMAIL_USE_TLS', false),
    },
    jwtAccessTtlSeconds: r.durationMs('JWT_ACCESS_TTL', '5m') / 1000,
    jwtRefreshTtlSeconds: r.durationMs('JWT_REFRESH_TTL', '1d') / 1000,
    passwordResetUrl: r.str('PASSWORD_RESET_URL', `${siteUrl}/reset-password/?token={token}`),
    jobs: {
      eager: jobsEager,
      maxRetries: r.int('JOB_MAX_RETRIES', 3, 0, 20),
      backoffMs: r.durationMs('JOB_BACKOFF', '60s'),
      pollMs: r.durationMs('JOB_POLL_INTERVAL', '2s'),
      workerConcurrency: r.int('WORKER_CONCURRENCY', 5, 1, 100),
    },
    throttle: {
      enabled: r.bool('THROTTLE_ENABLED', true),
      anon: r.rate('THROTTLE_ANON', '100/hour'),
      user: r.rate('THROTTLE_USER', '1000/hour'),
      scopes: {
        users: r.rate('THROTTLE_USERS', '500/hour'),
        payments: r.rate('THROTTLE_PAYMENTS', '300/hour'),
        products: r.rate('THROTTLE_PRODUCTS', '800/hour'),
        auth: r.rate('THROTTLE_AUTH', '20/hour'),
      },
    },
    cache: {
      enabled: r.bool('CACHE_ENABLED', true),
      productsTtlSeconds: r.durationMs('CACHE_TTL_PRODUCTS', '60s') / 1000,
      paymentsTtlSeconds: r.durationMs('CACHE_TTL_PAYMENTS', '30s') / 1000,
    },
    demoData: r.bool('DEMO_DATA', true),
    pricing: {
      taxRate: r.decimal('TAX_RATE', '0', 6),
      shippingFlatRate: r.decimal('SHIPPING_FLAT_RATE', '5.00', 2),
      freeShippingThreshold: r.decimal('FREE_SHIPPING_THRESHOLD', '50.00', 2),
    },
    payments: { gateways, webhookSecrets },
    orderPaymentTimeoutMs: r.durationMs('ORDER_PAYMENT_TIMEOUT', '30m'),
    corsOrigins: (r.raw('CORS_ORIGINS') ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    logLevel: r.oneOf(
      'LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
      nodeEnv === 'test' ? 'silent' : 'info',
    ),
    webConcurrency,
    trustProxy: r.trustProxy('TRUST_PROXY'),
    shutdownTimeoutMs: r.durationMs('SHUTDOWN_TIMEOUT', '30s'),
  };
}

/** Loads `.env` (values already in the environment win), then validates. */
export function loadConfigFromProcess(): Config {
  if (existsSync('.env')) process.loadEnvFile('.env');
  return loadConfig(process.env);
}
