/**
 * `npm run bench`: SPEC §11's workload, at one or more catalog sizes, each on a fresh database
 * (PostgreSQL beside DATABASE_URL's, else a new PGlite DATA_DIR under bench/data/; with Redis, an
 * emptied key prefix of its own). `--skip-import`: one size on the configured database as it is.
 *
 *   npm run bench -- [--sizes 10000,100000 | --products 100000] [--seconds 10] [--connections 32]
 *                    [--modes cold,warm] [--labels L1,L2] [--no-commerce] [--explain]
 *                    [--skip-import] [--quiet-check] [--help]
 *
 * The load average is read before anything else (with --quiet-check a busy machine is refused,
 * exit 2, nothing recorded). The server is built once. Per size: the dataset bench/data/catalog-<n>
 * is generated if missing; a fresh database is made, migrated, and the catalog imported by the CLI
 * as a user runs it (the whole `npm run cli -- catalog:import` process timed), then imported again
 * (timed, and it should change no row). Before the first size's labels, bare Fastify (F0) is
 * measured: C0's ceiling. Then the built server in production mode runs each label with autocannon,
 * cache off (cold, followed by the commerce labels) then on (warm), each mode followed by its
 * targets. After the last size, the sizes are compared; everything goes to bench/results.json.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { loadConfigFromProcess } from '../src/config.js';
import { measure, type Measurement } from './load.js';
import { parseOptions, UsageError, USAGE, type Options } from './options.js';
import { measurementLine, sizeComparison, type SizeRates } from './report.js';
import { webConcurrency, withBareFastify } from './server.js';
import { measureSize, prepareSize, type SizeResults } from './size.js';

// Before anything of ours adds to it.
const [load1, load5, load15] = loadavg().map((l) => Math.round(l * 100) / 100) as [number, number, number];

const root = path.resolve(import.meta.dirname, '..');
const log = (line: string) => process.stdout.write(line + '\n');

function options(): Options {
  try {
    const parsed = parseOptions(process.argv.slice(2));
    if (parsed) return parsed;
    log(USAGE);
    process.exit(0);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n\n${USAGE}\n`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const opts = options();
  log(`Load average before the run: ${load1} (1 min), ${load5} (5 min), ${load15} (15 min)`);
  if (opts.quietCheck && load1 > 1) {
    log(
      `--quiet-check: the 1-minute load average is ${load1}, above 1: something else is running, and its ` +
        'share of the 2 cores would be measured as ours. Nothing was run or recorded; try again when the machine is quiet.',
    );
    process.exit(2);
  }

  const config = loadConfigFromProcess();
  // Built first: a build broken by work in progress should fail before minutes of import.
  log('Building …');
  if (spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' }).status !== 0) {
    throw new Error('the build failed');
  }

  let bare: Measurement | null = null;
  const sizes: Record<string, SizeResults> = {};
  for (const size of opts.sizes) {
    log(`\n== ${size} products ==`);
    const prepared = await prepareSize(config, size, opts, log);
    // Once, just before the first labels, in the same conditions as the first C0.
    bare ??= await withBareFastify(async (base) => {
      const m = await measure(`${base}/health/live/`, opts.connections, opts.seconds);
      log(
        measurementLine(
          'bare',
          'F0',
          m,
          `  (bare Fastify, ${webConcurrency()} process${webConcurrency() === 1 ? '' : 'es'})`,
        ),
      );
      return m;
    });
    sizes[size] = await measureSize(config, prepared, opts, bare, log);
  }

  if (opts.sizes.length > 1) {
    log('');
    const rates = (s: SizeResults): SizeRates => ({
      cold: s.modes.cold && {
        ...s.modes.cold,
        ...(s.commerce && { O1: s.commerce.O1, O2: s.commerce.O2, C1: s.commerce.C1 }),
      },
      warm: s.modes.warm,
    });
    for (const line of sizeComparison(opts.sizes.map((size) => ({ size, rates: rates(sizes[size]!) }))))
      log(line);
  }

  const report = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      memory_gib: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    },
    load_average_before: { one_minute: load1, five_minutes: load5, fifteen_minutes: load15 },
    database: config.databaseUrl ? 'postgres' : 'pglite',
    web_concurrency: webConcurrency(),
    connections: opts.connections,
    seconds_per_label: opts.seconds,
    bare_fastify: bare,
    sizes,
  };
  writeFileSync(path.join(root, 'bench', 'results.json'), JSON.stringify(report, null, 2) + '\n');
  log('Wrote bench/results.json');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
