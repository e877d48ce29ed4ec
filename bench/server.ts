import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');

/** The server's, so that the tokens the bench signs for its buyers are the server's too. */
export const secretKey = process.env.SECRET_KEY ?? 'benchmark-secret-key-not-for-production-use-0123456789';

/** Production's default: a process per core when the database and Redis can be shared, else one. */
export const webConcurrency = (): number =>
  Number(
    process.env.WEB_CONCURRENCY ?? (process.env.DATABASE_URL && process.env.REDIS_URL ? cpus().length : 1),
  );

/** Runs `node <args>` on a free-looking port, waits until `readyPath` answers 200, and stops it after `work`. */
async function withProcess<T>(
  args: string[],
  env: Record<string, string>,
  readyPath: string,
  work: (base: string) => Promise<T>,
): Promise<T> {
  const port = 18_000 + Math.floor(Math.random() * 1000);
  // Its log goes to a file, as a deployment's goes to a file or a collector: the access lines are
  // part of what a request costs, and would flood the bench's own output.
  mkdirSync(path.join(root, 'bench', 'data'), { recursive: true });
  const logFile = openSync(path.join(root, 'bench', 'data', 'server.log'), 'w');
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', logFile, 'inherit'],
  });
  closeSync(logFile);
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`node ${args.join(' ')} exited during start-up`);
      if (
        await fetch(base + readyPath).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      if (i > 600) throw new Error(`node ${args.join(' ')} did not answer ${readyPath} in 60 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return await work(base);
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }
}

/**
 * The built server in production mode with production's defaults (the access log at `info`),
 * throttling off; `env` picks the database and the cache.
 */
export const withAppServer = <T>(env: Record<string, string>, work: (base: string) => Promise<T>) =>
  withProcess(
    [path.join(root, 'dist', 'server.js')],
    {
      NODE_ENV: 'production',
      SECRET_KEY: secretKey,
      THROTTLE_ENABLED: 'false',
      DEMO_DATA: 'false',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      WEB_CONCURRENCY: String(webConcurrency()),
      ...env,
    },
    '/health/',
    work,
  );

/** bench/bare-fastify.ts with as many processes as the server. */
export const withBareFastify = <T>(work: (base: string) => Promise<T>) =>
  withProcess(
    ['--import', 'tsx', path.join(root, 'bench', 'bare-fastify.ts')],
    { NODE_ENV: 'production', WEB_CONCURRENCY: String(webConcurrency()) },
    '/health/live/',
    work,
  );
