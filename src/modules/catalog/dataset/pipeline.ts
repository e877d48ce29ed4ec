import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Deps } from '../../../platform/deps.js';
import { transaction, type Tx } from '../../../platform/db/transaction.js';
import { CsvFileError, readCsv } from './csv-reader.js';

/** A refused row: file name, 1-based line (header = line 1) and why. */
export interface Rejection {
  file: string;
  line: number;
  reason: string;
}

export interface FileSummary {
  file: string;
  /** Data rows in the file (every row counts once: inserted + updated + unchanged + rejected). */
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
}

export interface Lined<R> {
  line: number;
  row: R;
}

export interface BatchOutcome {
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: Array<{ line: number; reason: string }>;
  /** Runs once the batch's transaction has committed (the loader records what is now stored). */
  committed?: () => void;
}

/** How one CSV file goes into its table. */
export interface TableLoader<C extends string, R> {
  file: string;
  columns: readonly C[];
  /** Checks one row without the database, in file order: the typed row, or why it is refused. */
  check(fields: Record<C, string | null>, line: number): R | string;
  /** Batches must be written one after the other, in file order (later rows depend on earlier ones). */
  ordered?: boolean;
  /** Writes a batch inside one transaction; rows it refuses come back in `rejected`. */
  write(tx: Tx, rows: Array<Lined<R>>): Promise<BatchOutcome>;
  /** A row the database refused (it is not stored). */
  refused?(row: Lined<R>): void;
}

export interface FileProgress {
  file: string;
  rowsRead: number;
  bytesRead: number;
  fileBytes: number;
}

/** Rows per multi-row statement. Parameters go in as one JSON document, so no bind limit applies. */
export const BATCH_SIZE = 1000;

/** SQLSTATE of a driver error (Drizzle wraps it as `cause`). */
function sqlState(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** The driver's own message and detail (`Key (slug)=(x) already exists.`), without Drizzle's query text. */
function driverMessage(err: unknown): string {
  let message = err instanceof Error ? err.message : String(err);
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const { code, detail } = e as { code?: unknown; detail?: unknown };
    if (code !== undefined)
      message = typeof detail === 'string' && detail ? `${e.message} (${detail})` : e.message;
  }
  return message;
}

/** Data exceptions (22) and integrity violations (23) belong to a row; anything else stops the import. */
const isRowError = (err: unknown) => /^2[23]/.test(sqlState(err) ?? '');
/** Deadlock or serialization failure: the batch can simply run again. */
const isConflict = (err: unknown) => ['40P01', '40001'].includes(sqlState(err) ?? '');

export async function fileSize(dir: string, file: string): Promise<number> {
  try {
    const info = await stat(path.join(dir, file));
    if (!info.isFile()) throw new CsvFileError(`${file}: not a file`);
    return info.size;
  } catch (err) {
    if (err instanceof CsvFileError) throw err;
    const code = (err as { code?: string }).code;
    throw new CsvFileError(code === 'ENOENT' ? `${file}: no such file in ${dir}` : `${file}: ${String(err)}`);
  }
}

/**
 * Streams one file through its loader: rows are checked as they are read and written in batches,
 * each in its own transaction, while the next batch is being read (`writers` batches at a time on
 * separate connections). Only the rows the database refuses are rejected, not their batch.
 */
export async function loadFile<C extends string, R>(
  deps: Deps,
  dir: string,
  loader: TableLoader<C, R>,
  rejections: Rejection[],
  onProgress: (progress: FileProgress) => void,
  options: { writers?: number } = {},
): Promise<FileSummary> {
  const { file } = loader;
  const fileBytes = await fileSize(dir, file);
  const summary: FileSummary = { file, read: 0, inserted: 0, updated: 0, unchanged: 0, rejected: 0 };
  const reject = (line: number, reason: string) => {
    rejections.push({ file, line, reason });
    summary.rejected++;
  };
  const fileRejections = rejections.length;

  const apply = (outcome: BatchOutcome) => {
    summary.inserted += outcome.inserted;
    summary.updated += outcome.updated;
    summary.unchanged += outcome.unchanged;
    for (const { line, reason } of outcome.rejected) reject(line, reason);
    outcome.committed?.();
  };

  // A batch the database refuses is split in halves until each offending row is alone: a few bad
  // rows cost a few extra statements each, not one transaction per row.
  const writeRows = async (rows: Array<Lined<R>>, attempt = 1): Promise<void> => {
    try {
      apply(await transaction(deps.db, (tx) => loader.write(tx, rows)));
    } catch (err) {
      // Two concurrent batches can deadlock only when files swap unique values between rows; again.
      if (isConflict(err) && attempt < 3) return writeRows(rows, attempt + 1);
      if (!isRowError(err)) throw err;
      if (rows.length === 1) {
        reject(rows[0]!.line, `refused by the database: ${driverMessage(err)}`);
        loader.refused?.(rows[0]!);
      } else {
        const half = Math.ceil(rows.length / 2);
        await writeRows(rows.slice(0, half));
        await writeRows(rows.slice(half));
      }
    }
  };
  let reported = 0;
  const writeBatch = async (rows: Array<Lined<R>>, bytesRead: number, rowsRead: number) => {
    if (rows.length === 0) return;
    await writeRows(rows);
    // Concurrent batches may finish out of order: progress only moves forward.
    if (bytesRead <= reported) return;
    reported = bytesRead;
    onProgress({ file, rowsRead, bytesRead, fileBytes });
  };

  // Batches are written while the next ones are read and checked, up to `writers` at a time.
  const writers = loader.ordered ? 1 : Math.max(1, options.writers ?? 1);
  const inFlight = new Set<Promise<void>>();
  let failure: { err: unknown } | null = null;
  const startWrite = async (rows: Array<Lined<R>>, bytes: number, rowsRead: number) => {
    while (inFlight.size >= writers) await Promise.race(inFlight);
    if (failure) throw failure.err;
    const writing: Promise<void> = writeBatch(rows, bytes, rowsRead)
      .catch((err: unknown) => void (failure ??= { err }))
      .finally(() => inFlight.delete(writing));
    inFlight.add(writing);
  };

  let batch: Array<Lined<R>> = [];
  let bytes = 0;
  try {
    for await (const record of readCsv(path.join(dir, file), {
      columns: loader.columns,
      onProblem: ({ line, reason }) => {
        summary.read++;
        reject(line, reason);
      },
    })) {
      summary.read++;
      bytes = record.bytes;
      const checked = loader.check(record.fields, record.line);
      if (typeof checked === 'string') reject(record.line, checked);
      else batch.push({ line: record.line, row: checked });
      if (batch.length >= BATCH_SIZE) {
        await startWrite(batch, bytes, summary.read);
        batch = [];
      }
    }
    await startWrite(batch, fileBytes, summary.read);
  } finally {
    await Promise.all(inFlight);
  }
  if (failure) throw (failure as { err: unknown }).err;
  onProgress({ file, rowsRead: summary.read, bytesRead: fileBytes, fileBytes });
  // Rows refused while reading and while writing arrive in different orders: sort this file's by line.
  const mine = rejections.splice(fileRejections).sort((a, b) => a.line - b.line);
  rejections.push(...mine);
  return summary;
}
