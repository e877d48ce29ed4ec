/**
 * One catalog size: its dataset, its database (fresh, imported by the CLI as a user runs it, twice),
 * then the labels, cold and warm, on a server pointed at that database.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../src/config.js';
import { buildDeps } from '../src/deps.js';
import { generateCatalog } from '../src/modules/catalog/index.js';
import { parseImportSummary, runCli } from './cli-import.js';
import { makeCommerceUsers, runCommerce, type CommerceResults } from './commerce.js';
import { explainWorkload } from './explain.js';
import { configuredDatabase, freshDatabase, type BenchDatabase } from './fresh-database.js';
import { measure, type Measurement } from './load.js';
import type { Options } from './options.js';
import { measurementLine, modeSummary, share, type ModeResults } from './report.js';
import { secretKey, withAppServer } from './server.js';
import { WORKLOAD } from './workload.js';

const root = path.resolve(import.meta.dirname, '..');
const dataRoot = path.join(root, 'bench', 'data');

export interface PreparedSize {
  size: number;
  firstProductId: string;
  database: BenchDatabase;
  import_seconds: number | null;
  reimport_seconds: number | null;
  reimport_changed_rows: number | null;
}

export interface SizeResults {
  import_seconds: number | null;
  reimport_seconds: number | null;
  reimport_changed_rows: number | null;
  modes: Record<string, ModeResults>;
  commerce: CommerceResults | null;
}

/** bench/data/catalog-<size>, generated once (seed 42) and reused by every later run. */
async function dataset(
  size: number,
  log: (line: string) => void,
): Promise<{ dir: string; firstProductId: string }> {
  const dir = path.join(dataRoot, `catalog-${size}`);
  if (!existsSync(path.join(dir, 'manifest.json'))) {
    log(`Generating ${size} products into ${path.relative(root, dir)} …`);
    await generateCatalog(dir, { products: size, seed: '42' });
    // The files' pages still being written back would slow the import timed next (RESULTS.md).
    spawnSync('sync');
  }
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
    first_product_id: string;
  };
  return { dir, firstProductId: manifest.first_product_id };
}

type ImportResults = Pick<PreparedSize, 'import_seconds' | 'reimport_seconds' | 'reimport_changed_rows'>;

/** Migrated (not timed), then imported twice by the CLI, each run timed whole. */
async function importTwice(
  dir: string,
  database: BenchDatabase,
  log: (line: string) => void,
): Promise<ImportResults> {
  await runCli(root, ['migrate'], database.env);
  const echo = (line: string) => line.trim() && log(`  | ${line}`);
  const first = await runCli(root, ['catalog:import', dir], database.env, echo);
  const imported = parseImportSummary(first.stdout);
  log(
    `Imported ${imported.productsInserted} products on a fresh database in ${first.seconds} s (the whole catalog:import process)`,
  );
  // The same files again: an import that finds nothing to change should write nothing, and be quick.
  const second = await runCli(root, ['catalog:import', dir], database.env, echo);
  const { changedRows } = parseImportSummary(second.stdout);
  log(
    `Second import: ${second.seconds} s, ${changedRows === 0 ? 'changed no row' : `changed ${changedRows} rows`}`,
  );
  return {
    import_seconds: first.seconds,
    reimport_seconds: second.seconds,
    reimport_changed_rows: changedRows,
  };
}

export async function prepareSize(
  config: Config,
  size: number,
  options: Options,
  log: (line: string) => void,
): Promise<PreparedSize> {
  const { dir, firstProductId } = await dataset(size, log);
  let database: BenchDatabase;
  let imports: ImportResults;
  if (options.skipImport) {
    database = configuredDatabase(config);
    log(`Skipping the import: ${database.description}, as it is.`);
    imports = { import_seconds: null, reimport_seconds: null, reimport_changed_rows: null };
  } else {
    database = await freshDatabase(config, size, dataRoot);
    log(`Fresh database: ${database.description}`);
    imports = await importTwice(dir, database, log);
  }
  if (options.explain) log(await explainWorkload({ ...config, ...database.config }, firstProductId));
  return { size, firstProductId, database, ...imports };
}

/** The commerce labels' buyers and staff member, made in the database before the server starts. */
async function commerceUsers(config: Config) {
  const deps = await buildDeps({ ...config, secretKey }, { migrate: true });
  try {
    return await makeCommerceUsers(deps);
  } finally {
    await deps.close();
  }
}

/** With the cache off, the commerce labels (O1, O2, O3, C1) follow L5 on the same server. */
export async function measureSize(
  config: Config,
  prepared: PreparedSize,
  options: Options,
  bare: Measurement | null,
  log: (line: string) => void,
): Promise<SizeResults> {
  const { connections, seconds } = options;
  const users = options.commerce ? await commerceUsers({ ...config, ...prepared.database.config }) : null;
  let commerce: CommerceResults | null = null;
  const modes: Record<string, ModeResults> = {};
  for (const mode of options.modes) {
    const env = { ...prepared.database.env, CACHE_ENABLED: mode === 'warm' ? 'true' : 'false' };
    modes[mode] = await withAppServer(env, async (base) => {
      const results: ModeResults = {};
      for (const { label, path: urlPath } of WORKLOAD.filter((l) => options.labels.has(l.label))) {
        const m = await measure(base + urlPath(prepared.firstProductId), connections, seconds);
        const c0 = results.C0?.requests_per_second ?? m.requests_per_second;
        results[label] = { ...m, share_of_c0: share(m.requests_per_second, c0) };
        if (label === 'C0' && bare)
          results[label].share_of_f0 = share(m.requests_per_second, bare.requests_per_second);
        log(measurementLine(mode, label, m, `  ${String(results[label].share_of_c0).padStart(5)} % of C0`));
      }
      for (const line of modeSummary(mode, results, bare)) log(line);
      if (mode === 'cold' && users) {
        commerce = await runCommerce(base, users, { connections, seconds, log });
        const l5 = results.L5!.requests_per_second;
        const ofL5 = (m: Measurement) => `${share(m.requests_per_second, l5)} % of cold L5`;
        log(
          `O2 ${ofL5(commerce.O2)} (target ≥ 15 %, p99 < 150 ms); O1 ${Math.round((commerce.O1.requests_per_second / commerce.O2.requests_per_second) * 100)} % of O2 (target ≥ 50 %); C1 ${ofL5(commerce.C1)} (target ≥ 50 %)`,
        );
      }
      return results;
    });
  }
  return {
    import_seconds: prepared.import_seconds,
    reimport_seconds: prepared.reimport_seconds,
    reimport_changed_rows: prepared.reimport_changed_rows,
    modes,
    commerce,
  };
}
