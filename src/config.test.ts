import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('configuration', () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nexus-config-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('has the documented defaults', () => {
    const config = loadConfig({ DATA_DIR: dataDir() });
    expect(config.port).toBe(8000);
    expect(config.siteUrl).toBe('http://127.0.0.1:8000');
    expect(config.jwtAccessTtlSeconds).toBe(300);
    expect(config.jwtRefreshTtlSeconds).toBe(86_400);
    expect(config.jobs.eager).toBe(true);
    expect(config.throttle.anon).toMatchObject({ points: 100, seconds: 3600 });
    expect(config.throttle.scopes.auth).toMatchObject({ points: 20, seconds: 3600 });
    expect(config.cache).toEqual({ enabled: true, productsTtlSeconds: 60, paymentsTtlSeconds: 30 });
    expect(config.webConcurrency).toBe(1);
  });

  it('generates a development secret key once and keeps it', () => {
    const dir = dataDir();
    const first = loadConfig({ DATA_DIR: dir }).secretKey;
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(loadConfig({ DATA_DIR: dir }).secretKey).toBe(first);
    expect(readFileSync(path.join(dir, 'secret_key'), 'utf8').trim()).toBe(first);
  });

  describe('payment gateways and their webhook secret', () => {
    const production = { NODE_ENV: 'production', SECRET_KEY: 'k'.repeat(40) };

    it('outside production: the sandbox, and a secret generated once under DATA_DIR', () => {
      const dir = dataDir();
      const config = loadConfig({ DATA_DIR: dir });
      expect(config.payments.gateways).toEqual(['sandbox']);
      const [secret] = config.payments.webhookSecrets;
      expect(secret).toMatch(/^whsec_.{40,}$/);
      expect(loadConfig({ DATA_DIR: dir }).payments.webhookSecrets).toEqual([secret]);
      expect(readFileSync(path.join(dir, 'payment_webhook_secret'), 'utf8').trim()).toBe(secret);
    });

    it('in production: no gateway unless named, and then the secret is required', () => {
      expect(loadConfig({ DATA_DIR: dataDir(), ...production }).payments.gateways).toEqual([]);
      expect(() => loadConfig({ DATA_DIR: dataDir(), ...production, PAYMENT_GATEWAYS: 'sandbox' })).toThrow(
        /^PAYMENT_WEBHOOK_SECRET must be set when NODE_ENV=production and PAYMENT_GATEWAYS names a gateway/,
      );
      const config = loadConfig({
        DATA_DIR: dataDir(),
        ...production,
        PAYMENT_GATEWAYS: 'sandbox',
        PAYMENT_WEBHOOK_SECRET: `${'n'.repeat(30)}, ${'o'.repeat(30)}`,
      });
      expect(config.payments.webhookSecrets).toEqual(['n'.repeat(30), 'o'.repeat(30)]);
    });

    it('refuses a short secret, and takes PAYMENT_GATEWAYS set empty as none', () => {
      expect(() => loadConfig({ DATA_DIR: dataDir(), PAYMENT_WEBHOOK_SECRET: 'short' })).toThrow(
        /^PAYMENT_WEBHOOK_SECRET must be secrets of at least 24 characters/,
      );
      expect(loadConfig({ DATA_DIR: dataDir(), PAYMENT_GATEWAYS: '' }).payments.gateways).toEqual([]);
    });
  });

  it.each([
    [{ PORT: 'abc' }, /^PORT must be an integer from 0 to 65535 \(got "abc"\)$/],
    [{ PORT: '70000' }, /^PORT must be/],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL must be a URL \(postgres, postgresql\)/],
    [{ THROTTLE_ANON: 'lots' }, /^THROTTLE_ANON must be a rate such as 100\/hour/],
    [{ JWT_ACCESS_TTL: 'soon' }, /^JWT_ACCESS_TTL must be a duration/],
    [{ CACHE_ENABLED: 'perhaps' }, /^CACHE_ENABLED must be true or false/],
    [{ NODE_ENV: 'staging' }, /^NODE_ENV must be one of development, production, test/],
    [{ NODE_ENV: 'production' }, /^SECRET_KEY must be set when NODE_ENV=production/],
    [{ SECRET_KEY: 'short' }, /^SECRET_KEY must be at least 32 characters long/],
    [{ WEB_CONCURRENCY: '4' }, /^WEB_CONCURRENCY must be 1 unless both DATABASE_URL and REDIS_URL are set/],
    [{ JOBS_EAGER: 'false' }, /^JOBS_EAGER must be true when REDIS_URL is not set/],
  ])('refuses %o with a message naming the variable', (env, message) => {
    expect(() => loadConfig({ DATA_DIR: dataDir(), ...env })).toThrow(message);
  });

  it('parses rates, durations and lists', () => {
    const config = loadConfig({
      DATA_DIR: dataDir(),
      THROTTLE_USER: '5/min',
      JWT_REFRESH_TTL: '7d',
      CORS_ORIGINS: 'https://a.example, https://b.example',
      REDIS_URL: 'redis://127.0.0.1:6379',
    });
    expect(config.throttle.user).toMatchObject({ points: 5, seconds: 60 });
    expect(config.jwtRefreshTtlSeconds).toBe(7 * 86_400);
    expect(config.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.jobs.eager).toBe(false);
  });

  it('lists every variable it reads in .env.example', () => {
    const read = (file: string) => readFileSync(fileURLToPath(new URL(file, import.meta.url)), 'utf8');
    const names = [...read('./config.ts').matchAll(/r\.\w+\('([A-Z_]+)'/g)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(30);
    const example = read('../.env.example');
    const missing = names.filter((name) => !new RegExp(`^#? ?${name}=`, 'm').test(example));
    expect(missing).toEqual([]);
  });
});
