/**
 * `npm run bench`: SPEC §11's workload against the configured database (DATABASE_URL, else the
 * embedded PGlite under DATA_DIR). Generates the dataset if missing, imports it, starts the built
 * server in production mode, drives each URL with autocannon, cache off (cold) then on (warm),
 * prints the table and writes bench/results.json.
 *
 *   npm run bench -- [--products 100000] [--seconds 10] [--connections 32] [--explain] [--skip-import]
 *                    [--modes cold,warm] [--no-commerce] [--labels L1,L2]
 *
 * With the cache off, the commerce labels (O1, O2, O3, C1) follow L5 on the same server.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFromProcess } from '../src/config.js';
import { buildDeps } from '../src/deps.js';
import { generateCatalog, importCatalog } from '../src/modules/catalog/index.js';
import { makeCommerceUsers, runCommerce, type CommerceResults } from './commerce.js';
import { explainWorkload } from './explain.js';
import { measure, type Measurement } from './load.js';
import { WORKLOAD } from './workload.js';

const root = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    products: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    explain: { type: 'boolean', default: false },
    'skip-import': { type: 'boolean', default: false },
    modes: { type: 'string', default: 'cold,warm' },
    commerce: { type: 'boolean', default: true },
    labels: { type: 'string', default: WORKLOAD.map((l) => l.label).join(',') },
  },
});
const products = Number(args.products);
const seconds = Number(args.seconds);
const connections = Number(args.connections);
/** C0 and L5 always run: the other labels are reported against them. */
const labels = new Set(['C0', 'L5', ...args.labels.split(',')]);

const log = (line: string) => process.stdout.write(line + '\n');

async function prepareData(): Promise<{ firstProductId: string; importSeconds: number | null }> {
  const dir = path.join(root, 'bench', 'data', `catalog-${products}`);
  if (!existsSync(path.join(dir, 'manifest.json'))) {
    log(`Generating ${products} products into ${path.relative(root, dir)} …`);
    await generateCatalog(dir, { products, seed: '42' });
  }
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
    first_product_id: string;
  };
  if (args['skip-import']) return { firstProductId: manifest.first_product_id, importSeconds: null };
  const deps = await buildDeps(loadConfigFromProcess(), { migrate: true, statementTimeoutMs: 0 });
  try {
    const started = performance.now();
    await importCatalog(deps, dir, {});
    const importSeconds = Math.round((performance.now() - started) / 100) / 10;
    log(`Imported in ${importSeconds} s.`);
    return { firstProductId: manifest.first_product_id, importSeconds };
  } finally {
    await deps.close();
  }
}

/** The server's, so that the tokens the bench signs for its buyers are the server's too. */
const secretKey = process.env.SECRET_KEY ?? 'benchmark-secret-key-not-for-production-use-0123456789';

/** The commerce labels' buyers and staff member, made in the database before the server starts. */
async function commerceUsers() {
  const deps = await buildDeps({ ...loadConfigFromProcess(), secretKey }, { migrate: true });
  try {
    return await makeCommerceUsers(deps);
  } finally {
    await deps.close();
  }
}

/** Production's default: a process per core when the database and Redis can be shared, else one. */
const webConcurrency =
  process.env.WEB_CONCURRENCY ??
  String(process.env.DATABASE_URL && process.env.REDIS_URL ? cpus().length : 1);

async function withServer<T>(env: Record<string, string>, work: (base: string) => Promise<T>): Promise<T> {
  const port = 18_000 + Math.floor(Math.random() * 1000);
  const child = spawn(process.execPath, [path.join(root, 'dist', 'server.js')], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      SECRET_KEY: secretKey,
      HOST: '127.0.0.1',
      PORT: String(port),
      THROTTLE_ENABLED: 'false',
      DEMO_DATA: 'false',
      LOG_LEVEL: 'warn',
      WEB_CONCURRENCY: webConcurrency,
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error('the server exited during start-up');
      if (
        await fetch(`${base}/health/`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      if (i > 600) throw new Error('the server did not become healthy in 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    return await work(base);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

async function main(): Promise<void> {
  const config = loadConfigFromProcess();
  const database = config.databaseUrl ? 'postgres' : 'pglite';
  const { firstProductId, importSeconds } = await prepareData();
  if (args.explain) log(await explainWorkload(config, firstProductId));

  log('Building …');
  if (spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' }).status !== 0) {
    throw new Error('the build failed');
  }

  const users = args.commerce ? await commerceUsers() : null;
  let commerce: CommerceResults | null = null;
  const modes: Record<string, Record<string, Measurement & { share_of_c0: number }>> = {};
  const wanted = new Set(args.modes.split(','));
  for (const [mode, cacheEnabled] of [
    ['cold', 'false'],
    ['warm', 'true'],
  ] as const) {
    if (!wanted.has(mode)) continue;
    modes[mode] = await withServer({ CACHE_ENABLED: cacheEnabled }, async (base) => {
      const results: Record<string, Measurement & { share_of_c0: number }> = {};
      for (const { label, path: urlPath } of WORKLOAD.filter((l) => labels.has(l.label))) {
        const m = await measure(base + urlPath(firstProductId), connections, seconds);
        const c0 = results.C0?.requests_per_second ?? m.requests_per_second;
        results[label] = { ...m, share_of_c0: Math.round((m.requests_per_second / c0) * 1000) / 10 };
        log(
          `${mode.padEnd(5)} ${label}  ${String(m.requests_per_second).padStart(7)} req/s  p50 ${String(m.p50_ms).padStart(4)} ms  ` +
            `p99 ${String(m.p99_ms).padStart(4)} ms  ${String(results[label].share_of_c0).padStart(5)} % of C0` +
            (m.errors || m.non_2xx ? `  (${m.errors} errors, ${m.non_2xx} non-2xx)` : ''),
        );
      }
      if (mode === 'cold' && users) {
        commerce = await runCommerce(base, users, { connections, seconds, log });
        const l5 = results.L5!.requests_per_second;
        const share = (m: Measurement) =>
          `${Math.round((m.requests_per_second / l5) * 1000) / 10} % of cold L5`;
        log(
          `O2 ${share(commerce.O2)} (target ≥ 15 %, p99 < 150 ms); O1 ${Math.round((commerce.O1.requests_per_second / commerce.O2.requests_per_second) * 100)} % of O2 (target ≥ 50 %); C1 ${share(commerce.C1)} (target ≥ 50 %)`,
        );
      }
      return results;
    });
  }

  const report = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      memory_gib: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    },
    database,
    web_concurrency: Number(webConcurrency),
    products,
    connections,
    seconds_per_label: seconds,
    import_seconds: importSeconds,
    modes,
    commerce,
  };
  writeFileSync(path.join(root, 'bench', 'results.json'), JSON.stringify(report, null, 2) + '\n');
  log('Wrote bench/results.json');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
