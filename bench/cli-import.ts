import { spawn } from 'node:child_process';

export interface CliRun {
  /** From spawn to exit: npm, tsx's start-up, migrations check, the import and the exit, as a user waits. */
  seconds: number;
  stdout: string;
}

/**
 * `npm run cli -- <args>` as a user runs it. Its output is echoed (minus the import's progress
 * lines) when `echo` is given, and shown whole if it fails.
 */
export function runCli(
  root: string,
  args: string[],
  env: Record<string, string>,
  echo?: (line: string) => void,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let exited = 0;
    const child = spawn('npm', ['run', 'cli', '--', ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    let partial = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (echo && !line.startsWith('Importing')) echo(line);
    });
    // Timed at exit, not at the close of its output, which may come a little later.
    child.once('exit', () => (exited = performance.now()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (echo && partial && !partial.startsWith('Importing')) echo(partial);
      if (code !== 0) {
        reject(new Error(`npm run cli -- ${args.join(' ')} exited with ${code}:\n${stdout}`));
        return;
      }
      resolve({ seconds: Math.round((exited - started) / 100) / 10, stdout });
    });
  });
}

export interface ImportCounts {
  /** products.csv's inserted rows. */
  productsInserted: number;
  /** Rows inserted or updated in the three files, plus category links added and removed. */
  changedRows: number;
}

const NUMBERS = /^\d+$/;

/**
 * Reads the summary `catalog:import` prints (src/commands/catalog.ts): the table
 * `file read inserted updated unchanged rejected`, a row per file, and
 * `category links: N added, M removed`. Fails loudly if that output changes, rather than reporting 0.
 */
export function parseImportSummary(stdout: string): ImportCounts {
  const lines = stdout.split('\n').map((l) => l.trim().split(/\s+/));
  const head = lines.findIndex(
    (cells) => cells.join(' ') === 'file read inserted updated unchanged rejected',
  );
  const rows: string[][] = [];
  for (const cells of lines.slice(head + 1)) {
    if (head < 0 || cells.length !== 6 || !cells.slice(1).every((c) => NUMBERS.test(c))) break;
    rows.push(cells);
  }
  const links = /category links: (\d+) added, (\d+) removed/.exec(stdout);
  const products = rows.find((r) => r[0] === 'products.csv');
  if (rows.length !== 3 || !products || !links)
    throw new Error(`catalog:import's summary is not in the expected form:\n${stdout}`);
  const changedRows =
    rows.reduce((sum, r) => sum + Number(r[2]) + Number(r[3]), 0) + Number(links[1]) + Number(links[2]);
  return { productsInserted: Number(products[2]), changedRows };
}
