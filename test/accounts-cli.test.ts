import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSuperuserCommand, type SuperuserOptions } from '../src/commands/createsuperuser.js';
import { CommandError } from '../src/commands/output.js';
import { checkPassword } from '../src/modules/accounts/passwords.js';
import { users, type User } from '../src/modules/accounts/tables.js';
import { openDatabase, type Db } from '../src/platform/db/client.js';
import { bearer, makeUser, tokensFor } from './helpers/accounts.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { captureOutput } from './helpers/output.js';

/** SPEC §1 and §3: `createsuperuser` makes an active, verified staff superuser. */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STRONG = 'Granite-Pelican-Voyage-83';
const CLI_TIMEOUT_MS = 90_000;

async function commandError(work: Promise<void>): Promise<string> {
  try {
    await work;
  } catch (err) {
    expect(err).toBeInstanceOf(CommandError);
    return (err as Error).message;
  }
  throw new Error('the command did not fail');
}

describe('createSuperuserCommand (in process)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  const allUsers = () => t.deps.db.select().from(users).orderBy(asc(users.id));
  const run = (options: Partial<SuperuserOptions>) => {
    const out = captureOutput();
    return { out, done: createSuperuserCommand(t.deps, out, { input: false, ...options }) };
  };

  /** The command fails with a CommandError and writes nothing. */
  async function refused(options: Partial<SuperuserOptions>): Promise<string> {
    const before = await allUsers();
    const { out, done } = run(options);
    const message = await commandError(done);
    expect(out.lines).toEqual([]);
    expect(await allUsers()).toEqual(before);
    return message;
  }

  it('creates an active, verified staff superuser who can sign in and act as staff', async () => {
    const { out, done } = run({ username: 'root0', email: 'Root0@Example.COM', password: STRONG });
    await done;
    expect(out.errors).toEqual([]);
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatch(/^Superuser root0 <Root0@example\.com> created \(id \d+\)\.$/);
    expect(out.text()).not.toContain(STRONG);

    const [row] = await t.deps.db.select().from(users).where(eq(users.username, 'root0'));
    expect(row).toMatchObject({
      email: 'Root0@example.com',
      isActive: true,
      isVerified: true,
      isStaff: true,
      isSuperuser: true,
    });
    expect(row!.password).toMatch(/^\$argon2id\$/);
    expect(row!.password).not.toContain(STRONG);

    const { access } = await tokensFor(t.app, 'root0', STRONG);
    const me = await t.app.inject({ method: 'GET', url: '/api/users/me/', headers: bearer(access) });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ id: row!.id, is_staff: true, is_verified: true, is_active: true });
    expect((await tokensFor(t.app, 'root0@example.com', STRONG)).access).toEqual(expect.any(String));

    const list = await t.app.inject({ method: 'GET', url: '/api/users/', headers: bearer(access) });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toMatchObject({ count: 1, results: [{ username: 'root0', is_superuser: true }] });

    // Only a superuser changes staff status: this one can.
    const customer = await makeUser(t.deps, { username: 'promoted' });
    const promote = await t.app.inject({
      method: 'PATCH',
      url: `/api/users/${customer.id}/`,
      headers: bearer(access),
      payload: { is_staff: true },
    });
    expect(promote.statusCode).toBe(200);
    expect(promote.json()).toMatchObject({ id: customer.id, is_staff: true });
  });

  it('a taken username or e-mail address (any case) is a CommandError naming it', async () => {
    const username = await refused({ username: 'ROOT0', email: 'other0@example.com', password: STRONG });
    expect(username).toMatch(/username/);
    expect(username).toMatch(/taken/);
    const email = await refused({ username: 'other0', email: 'root0@EXAMPLE.com', password: STRONG });
    expect(email).toMatch(/e-?mail/);
    expect(email).toMatch(/taken/);
  });

  it.each([
    ['too short', 'Ab-1'],
    ['entirely numeric', '8675309142'],
    ['too common', 'password1'],
    ['too similar to the username', 'rooty_mc_rootface'],
  ])('a weak password (%s) is a CommandError about the password', async (_why, password) => {
    const message = await refused({ username: 'rooty_mc_rootface', email: 'rooty@example.com', password });
    expect(message).toMatch(/^Error: password: /);
    expect(message).not.toContain(password);
  });

  it('an invalid username or e-mail address is a CommandError naming the field', async () => {
    expect(await refused({ username: 'has space', email: 'ok1@example.com', password: STRONG })).toMatch(
      /username/,
    );
    expect(await refused({ username: 'okname', email: 'not-an-address', password: STRONG })).toMatch(/email/);
  });

  it.each([
    [{}, ['--username', '--email', '--password or SUPERUSER_PASSWORD']],
    [{ username: 'lonely' }, ['--email', '--password or SUPERUSER_PASSWORD']],
    [{ username: 'lonely', email: 'lonely@example.com' }, ['--password or SUPERUSER_PASSWORD']],
    [{ email: 'lonely@example.com', password: STRONG }, ['--username']],
    [
      { username: '', email: '', password: '' },
      ['--username', '--email', '--password or SUPERUSER_PASSWORD'],
    ],
  ] as Array<[Partial<SuperuserOptions>, string[]]>)(
    'with input: false, missing %j is a CommandError naming %j',
    async (options, named) => {
      const message = await refused({ ...options, input: false });
      expect(message).toMatch(/^Missing /);
      for (const name of named) expect(message).toContain(name);
      for (const name of ['--username', '--email', 'SUPERUSER_PASSWORD'].filter(
        (n) => !named.some((m) => m.includes(n)),
      )) {
        expect(message).not.toContain(name);
      }
    },
  );

  it('with input: true and every value given, nothing is asked', async () => {
    const { out, done } = run({
      username: 'root9',
      email: 'root9@example.com',
      password: STRONG,
      input: true,
    });
    await done;
    expect(out.lines).toEqual([expect.stringMatching(/^Superuser root9 <root9@example\.com> created/)]);
    const [row] = await t.deps.db.select().from(users).where(eq(users.username, 'root9'));
    expect(row).toMatchObject({ isSuperuser: true, isStaff: true, isVerified: true, isActive: true });
  });
});

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Answers given to the CLI: all at once (a pipe), or each after its prompt appears (a person). */
type Input = string | Array<[prompt: string, answer: string]>;

describe('`cli.ts createsuperuser` as a real process', () => {
  let database: TestDatabase;
  let dataDir: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = mkdtempSync(path.join(tmpdir(), 'nexus-cli-test-'));
  });
  afterAll(async () => {
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /**
   * `node --import tsx src/cli.ts …` with stdin, stdout and stderr piped. Only the variables the
   * test sets reach it (no DATABASE_URL, REDIS_URL, e-mail settings or password from outside);
   * in embedded mode it keeps its PGlite database under DATA_DIR, shared by this file's runs.
   */
  function cli(args: string[], env: Record<string, string>, input: Input = ''): Promise<CliResult> {
    const base: Record<string, string | undefined> = { ...process.env };
    for (const key of Object.keys(base)) {
      if (key.startsWith('EMAIL_') || ['DATABASE_URL', 'REDIS_URL', 'SUPERUSER_PASSWORD'].includes(key)) {
        delete base[key];
      }
    }
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: ROOT,
      env: {
        ...base,
        NODE_ENV: 'test',
        SECRET_KEY: 's'.repeat(40),
        LOG_LEVEL: 'silent',
        DATA_DIR: dataDir,
        ...(database.url ? { DATABASE_URL: database.url } : {}),
        ...env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const script = typeof input === 'string' ? [] : [...input];
    let searchFrom = 0;
    const answer = () => {
      while (script.length > 0) {
        const [prompt, reply] = script[0]!;
        const at = stdout.indexOf(prompt, searchFrom);
        if (at < 0) return;
        searchFrom = at + prompt.length;
        script.shift();
        child.stdin.write(`${reply}\n`);
      }
      child.stdin.end();
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (typeof input !== 'string') answer();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.on('error', () => undefined); // the process may exit before reading everything
    if (typeof input === 'string') child.stdin.end(input);
    else if (input.length === 0) child.stdin.end();

    return new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS - 5_000);
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** The database the CLI wrote to, opened after the process has exited. */
  async function withDb<T>(work: (db: Db) => Promise<T>): Promise<T> {
    const handle = await openDatabase(
      database.url ? { url: database.url, poolSize: 1 } : { pgliteDir: path.join(dataDir, 'pglite') },
    );
    try {
      return await work(handle.db);
    } finally {
      await handle.close();
    }
  }

  const findUser = (username: string) =>
    withDb(async (db) => {
      const rows = await db
        .select()
        .from(users)
        .where(eq(sql`lower(${users.username})`, username.toLowerCase()));
      return rows[0] ?? null;
    });
  const userCount = () =>
    withDb(async (db) => (await db.select({ n: sql<number>`cast(count(*) as integer)` }).from(users))[0]!.n);

  function expectSuperuser(user: User | null, username: string, email: string) {
    expect(user).toMatchObject({
      username,
      email,
      isActive: true,
      isVerified: true,
      isStaff: true,
      isSuperuser: true,
    });
  }

  it(
    '--no-input with SUPERUSER_PASSWORD: exit 0, "created", the password never printed; it persisted',
    async () => {
      const password = 'Saffron-Glacier-Tandem-91';
      const args = ['createsuperuser', '--username', 'root1', '--email', 'root1@example.com', '--no-input'];
      const first = await cli(args, { SUPERUSER_PASSWORD: password });
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/Superuser root1 <root1@example\.com> created \(id \d+\)\./);
      expect(first.stdout + first.stderr).not.toContain(password);

      const row = await findUser('root1');
      expectSuperuser(row, 'root1', 'root1@example.com');
      expect(await checkPassword(row!.password, password)).toBe(true);

      // A second run sees the first one's user: the name is taken, and that is exit 1.
      const again = await cli(args, { SUPERUSER_PASSWORD: 'Another-Strong-Secret-64' });
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/username: .*taken/);
      expect(again.stdout).not.toMatch(/created/);
      expect(again.stdout + again.stderr).not.toContain('Another-Strong-Secret-64');
      expect(await checkPassword((await findUser('root1'))!.password, password)).toBe(true);
    },
    CLI_TIMEOUT_MS * 2,
  );

  it(
    '--no-input: a weak password or a missing value is exit 1 naming the problem, nothing created',
    async () => {
      const before = await userCount();
      const weak = await cli(
        ['createsuperuser', '--username', 'weakling', '--email', 'weakling@example.com', '--no-input'],
        { SUPERUSER_PASSWORD: '12345678' },
      );
      expect(weak.code).toBe(1);
      expect(weak.stderr).toMatch(/password: .*numeric/);
      expect(weak.stdout + weak.stderr).not.toContain('12345678');

      const missing = await cli(['createsuperuser', '--username', 'nopass', '--no-input'], {});
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('--email');
      expect(missing.stderr).toContain('SUPERUSER_PASSWORD');
      expect(await userCount()).toBe(before);
    },
    CLI_TIMEOUT_MS * 2,
  );

  it(
    'interactive, answering each prompt: exit 0, the password is not echoed',
    async () => {
      const password = 'Velvet-Harbor-Lantern-28';
      const result = await cli(['createsuperuser'], {}, [
        ['Username: ', 'root2'],
        ['Email address: ', 'root2@example.com'],
        ['Password: ', password],
        ['Password (again): ', password],
      ]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/Superuser root2 <root2@example\.com> created/);
      expect(result.stdout + result.stderr).not.toContain(password);
      const row = await findUser('root2');
      expectSuperuser(row, 'root2', 'root2@example.com');
      expect(await checkPassword(row!.password, password)).toBe(true);
    },
    CLI_TIMEOUT_MS,
  );

  it(
    'interactive, every answer piped at once (`printf … | cli createsuperuser`): exit 0, created',
    async () => {
      const password = 'Copper-Meadow-Falcon-56';
      const result = await cli(
        ['createsuperuser'],
        {},
        `root3\nroot3@example.com\n${password}\n${password}\n`,
      );
      expect(result.stdout + result.stderr).not.toContain(password);
      expect(result.stderr).toBe('');
      expect(result.stdout).toMatch(/Superuser root3 <root3@example\.com> created/);
      expect(result.code).toBe(0);
      expectSuperuser(await findUser('root3'), 'root3', 'root3@example.com');
    },
    CLI_TIMEOUT_MS,
  );

  it(
    "interactive, passwords that don't match: exit 1, nothing created",
    async () => {
      const before = await userCount();
      const result = await cli(['createsuperuser'], {}, [
        ['Username: ', 'root4'],
        ['Email address: ', 'root4@example.com'],
        ['Password: ', 'Velvet-Harbor-Lantern-28'],
        ['Password (again): ', 'Velvet-Harbor-Lantern-29'],
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("didn't match");
      expect(result.stdout + result.stderr).not.toContain('Velvet-Harbor-Lantern-2');
      expect(await findUser('root4')).toBeNull();
      expect(await userCount()).toBe(before);
    },
    CLI_TIMEOUT_MS,
  );

  it(
    'interactive, input that ends before the last answer: a failure exit, nothing created',
    async () => {
      const before = await userCount();
      const result = await cli(['createsuperuser'], {}, 'root5\n');
      expect(result.code).not.toBe(0);
      expect(result.stdout).not.toMatch(/created/);
      expect(await findUser('root5')).toBeNull();
      expect(await userCount()).toBe(before);
    },
    CLI_TIMEOUT_MS,
  );
});
