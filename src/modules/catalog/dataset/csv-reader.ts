import { createReadStream } from 'node:fs';
import path from 'node:path';
import { parse, type CsvError, type Info } from 'csv-parse';

/** A data row: its fields by column name (empty field = null) and where it starts in the file. */
export interface CsvRecord<C extends string> {
  /** 1-based line of the row's first line (the header is line 1). */
  line: number;
  fields: Record<C, string | null>;
  /** Bytes of the file read so far (for progress). */
  bytes: number;
}

/** A row the reader could not turn into fields. */
export interface CsvProblem {
  line: number;
  reason: string;
}

/** The file cannot be read as this kind of CSV at all (missing, unreadable, no or wrong header). */
export class CsvFileError extends Error {
  override name = 'CsvFileError';
}

export interface ReadCsvOptions<C extends string> {
  /** Columns the header must name (in any order; other columns are ignored). */
  columns: readonly C[];
  /** Rows that are not valid CSV or have the wrong number of fields. */
  onProblem: (problem: CsvProblem) => void;
}

function countNewlines(values: readonly string[]): number {
  let n = 0;
  for (const value of values) {
    for (let i = value.indexOf('\n'); i !== -1; i = value.indexOf('\n', i + 1)) n++;
  }
  return n;
}

/**
 * Streams the rows of a CSV file (RFC 4180, header row) through csv-parse. Rows with the wrong
 * number of fields or broken quoting are handed to `onProblem` and skipped; reading goes on.
 */
export async function* readCsv<C extends string>(
  file: string,
  options: ReadCsvOptions<C>,
): AsyncGenerator<CsvRecord<C>> {
  const parser = parse({
    bom: true,
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (err: CsvError | undefined) => {
      if (err) options.onProblem({ line: Number(err.lines), reason: `malformed CSV: ${err.message}` });
      return undefined;
    },
  });
  const input = createReadStream(file);
  input.on('error', (err) => parser.destroy(err));
  input.pipe(parser);

  const name = path.basename(file);
  let indexes: number[] | null = null;
  let width = 0;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: Info }>) {
      const { record, info } = item;
      const line = info.lines - countNewlines(record);
      if (!indexes) {
        const header = record.map((name) => name.trim());
        const missing = options.columns.filter((column) => !header.includes(column));
        if (missing.length > 0) {
          throw new CsvFileError(`${name}: the header lacks the column(s) ${missing.join(', ')}`);
        }
        indexes = options.columns.map((column) => header.indexOf(column));
        width = header.length;
        continue;
      }
      if (record.length !== width) {
        options.onProblem({ line, reason: `expected ${width} fields, found ${record.length}` });
        continue;
      }
      const fields = {} as Record<C, string | null>;
      for (let i = 0; i < indexes.length; i++) {
        const value = record[indexes[i]!]!;
        fields[options.columns[i]!] = value === '' ? null : value;
      }
      yield { line, fields, bytes: info.bytes };
    }
  } catch (err) {
    if (err instanceof CsvFileError) throw err;
    throw new CsvFileError(`${name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    input.destroy();
    parser.destroy();
  }
  if (!indexes) throw new CsvFileError(`${name}: the file is empty (no header row)`);
}
