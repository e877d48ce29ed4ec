import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { jobsPing } from '../src/commands/jobs.js';
import { createTestApp } from './helpers/app.js';
import { captureOutput } from './helpers/output.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { killGroup, run, waitForHttp, type RunningProcess } from './helpers/process.js';
import { freePort, waitFor } from './helpers/wait.js';

/**
 * Generous deadlines for a process to come up (`npm start` type-checks and builds first, and a new
 * embedded database is created and migrated), so that a busy machine is not a failure; the tests
 * wait for the server to answer, never for a fixed time.
 */
const START_DEADLINE_MS = 150_000;
const TEST_TIMEOUT_MS = START_DEADLINE_MS + 30_000;

describe('process lifecycle', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function environment(): Promise<{ env: Record<string, string | undefined>; port: number }> {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'nexus-life-'));
    const database: TestDatabase = await createTestDatabase();
    cleanups.push(
      () => rmSync(dataDir, { recursive: true, force: true }),
      () => database.drop(),
    );
    const port = await freePort();
    return {
      port,
      env: {
        NODE_ENV: 'development',
        PORT: String(port),
        DATA_DIR: dataDir,
        DATABASE_URL: database.url,
        REDIS_URL: process.env.REDIS_URL,
        LOG_LEVEL: 'warn',
      },
    };
  }

  function track(proc: RunningProcess) {
    cleanups.push(() => killGroup(proc));
    return proc;
  }

  it(
    'npm start builds, migrates and answers /health/, and stops on SIGTERM',
    async () => {
      const { env, port } = await environment();
      const proc = track(run('npm', ['start', '--silent'], env));
      await waitForHttp(`http://127.0.0.1:${port}/health/`, START_DEADLINE_MS, proc);
      const body = (await (await fetch(`http://127.0.0.1:${port}/health/`)).json()) as Record<
        string,
        unknown
      >;
      expect(body).toMatchObject({ status: 'ok', db: true, cache: true, queue: true });
      // npm forwards the signal to the server and then ends by it itself, so its exit code says
      // little (the server's own is checked below); what matters is that the server is gone.
      proc.child.kill('SIGTERM');
      await proc.exited;
      await waitFor(
        () =>
          fetch(`http://127.0.0.1:${port}/health/`).then(
            () => false,
            () => true,
          ),
        10_000,
        'the server to stop listening',
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'finishes a request in flight on SIGTERM, then exits 0',
    async () => {
      const { env, port } = await environment();
      const proc = track(run('node', ['--import', 'tsx', 'test/fixtures/slow-server.ts'], env));
      await waitForHttp(`http://127.0.0.1:${port}/health/`, START_DEADLINE_MS, proc);

      // The route answers only once the process has the signal: the request is in flight until then.
      const slow = fetch(`http://127.0.0.1:${port}/probe/slow/`);
      await waitFor(
        () => proc.output().includes('slow request started'),
        10_000,
        'the slow request to start',
      );
      proc.child.kill('SIGTERM');
      const res = await slow;
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ done: true });
      expect(await proc.exited).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );

  const realServices = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);

  it.skipIf(!realServices)(
    'runs WEB_CONCURRENCY HTTP processes and stops them all on SIGTERM (PostgreSQL and Redis)',
    async () => {
      const { env, port } = await environment();
      const proc = track(run('node', ['--import', 'tsx', 'src/server.ts'], { ...env, WEB_CONCURRENCY: '2' }));
      await waitForHttp(`http://127.0.0.1:${port}/health/`, START_DEADLINE_MS, proc);
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => fetch(`http://127.0.0.1:${port}/health/`).then((r) => r.status)),
      );
      expect(answers.every((status) => status === 200)).toBe(true);
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );

  it.skipIf(!realServices)(
    'npm run worker answers jobs:ping and stops on SIGTERM (PostgreSQL and Redis)',
    async () => {
      const { env } = await environment();
      const prefix = `test:worker${process.pid}:`;
      const proc = track(run('node', ['--import', 'tsx', 'src/worker.ts'], { ...env, REDIS_PREFIX: prefix }));
      const client = await createTestApp({
        env: { JOBS_EAGER: 'false' },
        redisPrefix: prefix,
        runJobs: false,
      });
      cleanups.push(() => client.close());
      const out = captureOutput();
      await jobsPing(client.deps, out, 20_000);
      expect(out.text()).toContain(`pid ${proc.child.pid}`);
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});
