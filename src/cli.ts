import { Command, InvalidArgumentError } from 'commander';
import { catalogGenerate, catalogImport } from './commands/catalog.js';
import { createSuperuserCommand } from './commands/createsuperuser.js';
import { mailPreview } from './commands/mail-preview.js';
import { jobsFailed, jobsList, jobsPing, jobsPurge, jobsRetry, jobsRun } from './commands/jobs.js';
import { CommandError, terminal } from './commands/output.js';
import { testEmail } from './commands/test-email.js';
import { ConfigError, loadConfigFromProcess, type Config } from './config.js';
import { buildDeps, createLogger, type Deps, type DepsOptions } from './deps.js';
import { openDatabase } from './platform/db/client.js';
import { runMigrations } from './platform/db/migrate.js';
import { createMailer } from './platform/mail/mailer.js';
import path from 'node:path';

const positiveInt = (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError('Expected a positive whole number.');
  return Number(value);
};

async function withDeps(
  work: (deps: Deps) => Promise<void> | void,
  options: Pick<DepsOptions, 'statementTimeoutMs'> = {},
): Promise<void> {
  const deps = await buildDeps(loadConfigFromProcess(), { migrate: true, ...options });
  try {
    await work(deps);
  } finally {
    await deps.close();
  }
}

const program = new Command('nexus')
  .description('Nexus Commerce management commands')
  .showHelpAfterError()
  .exitOverride((err) => process.exit(err.exitCode));

program
  .command('migrate')
  .description('apply the database migrations')
  .action(async () => {
    const config = loadConfigFromProcess();
    const handle = await openDatabase({
      url: config.databaseUrl,
      pgliteDir: path.join(config.dataDir, 'pglite'),
    });
    await runMigrations(handle, config.databaseUrl);
    await handle.close();
    terminal.line(`Migrations applied (${config.databaseUrl ? 'PostgreSQL' : 'embedded PGlite'}).`);
  });

program
  .command('createsuperuser')
  .description('create an active, verified staff superuser (asks for what the options do not give)')
  .option('--username <username>')
  .option('--email <email>')
  .option('--password <password>', 'or SUPERUSER_PASSWORD; prefer the variable, options show in `ps`')
  .option('--no-input', 'ask nothing; fail if something is missing')
  .action((opts: { username?: string; email?: string; password?: string; input: boolean }) =>
    withDeps((deps) =>
      createSuperuserCommand(deps, terminal, {
        ...opts,
        password: opts.password ?? process.env.SUPERUSER_PASSWORD,
      }),
    ),
  );

program
  .command('test-email')
  .description('send a test e-mail and say where it went')
  .argument('<to>', 'recipient address')
  .action(async (to: string) => {
    const config: Config = loadConfigFromProcess();
    const mailer = createMailer(
      { from: config.defaultFromEmail, ...config.email, fileDir: path.join(config.dataDir, 'mail') },
      createLogger(config),
    );
    try {
      await testEmail(mailer, terminal, to, config.shopName);
    } finally {
      mailer.close();
    }
  });

program
  .command('catalog:generate')
  .description('write a deterministic catalog dataset (categories.csv, products.csv, variants.csv)')
  .argument('<dir>', 'output directory (created if needed)')
  .option('--products <n>', 'how many products', positiveInt, 100_000)
  .option('--seed <seed>', 'the same products and seed give the same files', '42')
  .action((dir: string, opts: { products: number; seed: string }) =>
    catalogGenerate(terminal, dir, { products: opts.products, seed: opts.seed }),
  );

program
  .command('catalog:import')
  .description('load categories.csv, products.csv and variants.csv from a directory (upsert by slug / sku)')
  .argument('<dir>', 'directory holding the CSV files')
  .action((dir: string) =>
    withDeps(
      async (deps) => void (await catalogImport(deps, terminal, dir, { tty: Boolean(process.stdout.isTTY) })),
      // A request's time bound is not a bulk load's: a large catalog's batches and ANALYZE may take longer.
      { statementTimeoutMs: 0 },
    ),
  );

program
  .command('mail:preview')
  .description('write a sample of every e-mail template (or one) to DATA_DIR/mail/preview/, HTML and text')
  .argument('[template]', 'one template by name')
  .action((template: string | undefined) => void mailPreview(loadConfigFromProcess(), terminal, template));

program
  .command('jobs:list')
  .description('registered jobs and their schedules')
  .action(() => withDeps((deps) => jobsList(deps, terminal)));

program
  .command('jobs:run')
  .description('run a periodic job now (an extra run, through the queue) and print what it did')
  .argument('<name>', 'a periodic job (see jobs:list)')
  .action((name: string) => withDeps(async (deps) => void (await jobsRun(deps, terminal, name))));

program
  .command('jobs:failed')
  .description('jobs that failed after their last attempt')
  .option('--limit <n>', 'how many', positiveInt, 50)
  .action((opts: { limit: number }) => withDeps((deps) => jobsFailed(deps, terminal, opts.limit)));

program
  .command('jobs:retry')
  .description('run a failed job again')
  .argument('<id>', 'job id (from jobs:failed)', positiveInt)
  .action((id: number) => withDeps(async (deps) => void (await jobsRetry(deps, terminal, id))));

program
  .command('jobs:purge')
  .description('discard every job not yet run')
  .option('--yes', 'confirm', false)
  .action((opts: { yes: boolean }) =>
    withDeps(async (deps) => void (await jobsPurge(deps, terminal, opts.yes))),
  );

program
  .command('jobs:ping')
  .description('ask the workers to answer')
  .option('--timeout <ms>', 'how long to wait', positiveInt, 5000)
  .action((opts: { timeout: number }) => withDeps((deps) => jobsPing(deps, terminal, opts.timeout)));

program.parseAsync().catch((err: unknown) => {
  if (err instanceof CommandError || err instanceof ConfigError) {
    terminal.error(err instanceof ConfigError ? `Configuration error: ${err.message}` : err.message);
  } else {
    terminal.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  }
  process.exit(1);
});
