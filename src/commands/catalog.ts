import path from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Deps } from '../platform/deps.js';
import {
  CatalogFileError,
  generateCatalog,
  importCatalog,
  type FileSummary,
  type GenerateOptions,
  type ImportProgress,
  type ImportSummary,
} from '../modules/catalog/index.js';
import { CommandError, type Output } from './output.js';

/** Bad rows listed one by one at most; the rest are counted. */
const MAX_LISTED_REJECTIONS = 1000;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** `catalog:generate <dir>`: writes a deterministic catalog dataset (no database needed). */
export async function catalogGenerate(out: Output, dir: string, options: GenerateOptions): Promise<void> {
  const started = performance.now();
  let manifest;
  try {
    manifest = await generateCatalog(dir, options);
  } catch (err) {
    if (err instanceof RangeError) throw new CommandError(err.message);
    const code = (err as { code?: string }).code;
    if (code) throw new CommandError(`Cannot write to ${dir}: ${(err as Error).message}`);
    throw err;
  }
  out.line(
    `Wrote ${manifest.categories} categories, ${manifest.products} products, ${manifest.variants} variants and ` +
      `${manifest.product_category_links} category links (seed ${JSON.stringify(manifest.seed)}) to ` +
      `${path.resolve(dir)} in ${seconds(performance.now() - started)}.`,
  );
}

export interface CatalogImportOptions {
  /** A progress bar (stdout is a terminal) or a plain line every 10 %. */
  tty: boolean;
}

/** A progress bar on a terminal; otherwise a line at every tenth of the bytes. */
function progressReporter(out: Output, tty: boolean) {
  if (tty) {
    const bar = new SingleBar({
      format: 'Importing [{bar}] {percentage}% | {file} {rows} rows | ETA {eta_formatted}',
      stream: process.stdout,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    });
    let started = false;
    return {
      update(p: ImportProgress) {
        if (!started) {
          bar.start(p.totalBytes, 0, { file: p.file, rows: 0 });
          started = true;
        }
        bar.update(p.totalBytesRead, { file: p.file, rows: p.rowsRead });
      },
      stop: () => started && bar.stop(),
    };
  }
  let nextTenth = 1;
  return {
    update(p: ImportProgress) {
      const percent = p.totalBytes === 0 ? 100 : (100 * p.totalBytesRead) / p.totalBytes;
      if (percent < nextTenth * 10) return;
      while (nextTenth * 10 <= percent) nextTenth++;
      out.line(`Importing: ${Math.floor(percent)}% (${p.file}, ${p.rowsRead} rows)`);
    },
    stop: () => undefined,
  };
}

function summaryLines(dir: string, summary: ImportSummary): string[] {
  const files: FileSummary[] = [summary.categories, summary.products, summary.variants];
  const head = ['file', 'read', 'inserted', 'updated', 'unchanged', 'rejected'];
  const rows = files.map((f) => [f.file, f.read, f.inserted, f.updated, f.unchanged, f.rejected].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (cells: string[]) =>
    '  ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const rejected = summary.rejections.length;
  return [
    `Imported the catalog from ${path.resolve(dir)} in ${seconds(summary.elapsedMs)}.`,
    format(head),
    ...rows.map(format),
    `  category links: ${summary.links.inserted} added, ${summary.links.deleted} removed`,
    summary.analyzed.length > 0 ? `  analyzed: ${summary.analyzed.join(', ')}` : '  nothing changed',
    rejected === 0
      ? 'No rows rejected.'
      : `${rejected} row${rejected === 1 ? '' : 's'} rejected (listed above).`,
  ];
}

/**
 * `catalog:import <dir>`: loads the three CSV files. Bad rows are listed (`file:line: reason`) and
 * skipped without failing the command; a missing or unreadable file is a CommandError.
 */
export async function catalogImport(
  deps: Deps,
  out: Output,
  dir: string,
  options: CatalogImportOptions,
): Promise<ImportSummary> {
  const progress = progressReporter(out, options.tty);
  let summary: ImportSummary;
  try {
    summary = await importCatalog(deps, dir, { onProgress: (p) => progress.update(p) });
  } catch (err) {
    if (err instanceof CatalogFileError) throw new CommandError(`Import failed: ${err.message}`);
    throw err;
  } finally {
    progress.stop();
  }
  for (const r of summary.rejections.slice(0, MAX_LISTED_REJECTIONS))
    out.error(`${r.file}:${r.line}: ${r.reason}`);
  if (summary.rejections.length > MAX_LISTED_REJECTIONS) {
    out.error(`… and ${summary.rejections.length - MAX_LISTED_REJECTIONS} more rejected rows.`);
  }
  for (const line of summaryLines(dir, summary)) out.line(line);
  return summary;
}
