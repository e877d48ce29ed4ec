import { stat } from 'node:fs/promises';
import { sql } from 'drizzle-orm';
import type { Deps } from '../../../platform/deps.js';
import { CATALOG_SCOPE } from '../cache.js';
import { CsvFileError } from './csv-reader.js';
import { CATEGORIES_FILE, PRODUCTS_FILE, VARIANTS_FILE } from './format.js';
import { ImportState } from './import-state.js';
import { categoryLoader } from './load-categories.js';
import { productLoader, type LinkCounts } from './load-products.js';
import { variantLoader } from './load-variants.js';
import { fileSize, loadFile, type FileProgress, type FileSummary, type Rejection } from './pipeline.js';

export { CsvFileError as CatalogFileError };
export type { FileSummary, Rejection };

/** Concurrent batch writers on PostgreSQL. */
const WRITERS = 2;

export interface ImportProgress extends FileProgress {
  /** Bytes of all three files read so far, and their total. */
  totalBytesRead: number;
  totalBytes: number;
}

export interface ImportOptions {
  /** Called after every batch and at the end of each file. */
  onProgress?: (progress: ImportProgress) => void;
}

export interface ImportSummary {
  categories: FileSummary;
  products: FileSummary;
  variants: FileSummary;
  /** product_categories rows added and removed. */
  links: LinkCounts;
  /** Every refused row, by file then line. */
  rejections: Rejection[];
  /** Tables that changed and were analysed. */
  analyzed: string[];
  elapsedMs: number;
}

async function checkDirectory(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) throw new CsvFileError(`${dir}: no such directory`);
}

/**
 * Loads categories.csv, products.csv and variants.csv from `dir` (the benchmark dataset format):
 * categories upserted by slug, products and variants by SKU, each product's category links
 * replaced by the file's. Unchanged rows are not written at all, so a second run changes nothing.
 * Bad rows are reported (file, line, reason) and skipped. Throws `CatalogFileError` when a file is
 * missing, unreadable or has no usable header — before anything is written if it can tell.
 */
export async function importCatalog(
  deps: Deps,
  dir: string,
  options: ImportOptions = {},
): Promise<ImportSummary> {
  const started = performance.now();
  await checkDirectory(dir);
  const sizes: number[] = [];
  for (const file of [CATEGORIES_FILE, PRODUCTS_FILE, VARIANTS_FILE]) sizes.push(await fileSize(dir, file));
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  let doneBytes = 0;
  const onProgress = (progress: FileProgress) =>
    options.onProgress?.({ ...progress, totalBytesRead: doneBytes + progress.bytesRead, totalBytes });
  const next = (summary: FileSummary, size: number) => {
    doneBytes += size;
    return summary;
  };

  const now = deps.clock();
  const state = new ImportState();
  const rejections: Rejection[] = [];
  await state.loadCategories(deps.db);
  const categories = next(
    await loadFile(deps, dir, categoryLoader(state, now), rejections, onProgress),
    sizes[0]!,
  );
  // What is really stored now (a row the database refused must not be linked to).
  await state.loadCategories(deps.db);
  // PostgreSQL writes two batches at once on two connections (index upkeep is the bottleneck);
  // PGlite has one connection.
  const parallel = { writers: deps.database.kind === 'postgres' ? WRITERS : 1 };
  const products = productLoader(state);
  const productSummary = next(
    await loadFile(deps, dir, products, rejections, onProgress, parallel),
    sizes[1]!,
  );
  const variants = next(
    await loadFile(deps, dir, variantLoader(state, now), rejections, onProgress, parallel),
    sizes[2]!,
  );

  const changed = (s: FileSummary) => s.inserted + s.updated > 0;
  const analyzed = [
    changed(categories) && 'categories',
    changed(productSummary) && 'products',
    products.links.inserted + products.links.deleted > 0 && 'product_categories',
    (changed(productSummary) || products.links.inserted + products.links.deleted > 0) &&
      'public_category_prices',
    changed(variants) && 'product_variants',
  ].filter((t): t is string => typeof t === 'string');
  if (analyzed.length > 0) {
    // VACUUM as well as ANALYZE: a bulk load leaves the visibility map empty, and without it
    // counting the list (an index-only scan otherwise) has to read the whole table.
    await deps.db.execute(sql.raw(`VACUUM (ANALYZE) ${analyzed.join(', ')}`));
    // Cached catalog responses are stale now (this process's cache, or the shared Redis one).
    await deps.responseCache.invalidate(CATALOG_SCOPE);
  }

  return {
    categories,
    products: productSummary,
    variants,
    links: products.links,
    rejections,
    analyzed,
    elapsedMs: Math.round(performance.now() - started),
  };
}
