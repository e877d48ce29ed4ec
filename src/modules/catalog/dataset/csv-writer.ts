import { open, type FileHandle } from 'node:fs/promises';

/** One CSV field (RFC 4180): quoted when it holds `,` `"` CR or LF; null and undefined are empty. */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(fields: ReadonlyArray<string | number | null | undefined>): string {
  return fields.map(csvField).join(',') + '\n';
}

const FLUSH_AT = 1 << 20;

/** Appends rows to a file through a buffer of about 1 MiB, so a large file never sits in memory. */
export class CsvFileWriter {
  private chunks: string[] = [];
  private size = 0;

  private constructor(private readonly file: FileHandle) {}

  static async create(path: string, header: readonly string[]): Promise<CsvFileWriter> {
    const writer = new CsvFileWriter(await open(path, 'w'));
    writer.write(header);
    return writer;
  }

  /** Buffers the row; true when the buffer is full and the caller should `await flush()`. */
  write(fields: ReadonlyArray<string | number | null | undefined>): boolean {
    const row = csvRow(fields);
    this.chunks.push(row);
    this.size += row.length;
    return this.size >= FLUSH_AT;
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.file.close();
    }
  }

  /** Writes the buffer out (at the current position: appends). */
  async flush(): Promise<void> {
    if (this.chunks.length === 0) return;
    const text = this.chunks.join('');
    this.chunks = [];
    this.size = 0;
    await this.file.writeFile(text, 'utf8');
  }
}
