/** Where a command writes: the terminal in the CLI, a buffer in tests. */
export interface Output {
  line(text: string): void;
  error(text: string): void;
}

export const terminal: Output = {
  line: (text) => void process.stdout.write(text + '\n'),
  error: (text) => void process.stderr.write(text + '\n'),
};

/** A command's failure with the message the user should read; the CLI prints it and exits 1. */
export class CommandError extends Error {
  override name = 'CommandError';
}
