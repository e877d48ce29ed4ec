import type { Output } from '../../src/commands/output.js';

/** Captures what a command prints. */
export function captureOutput(): Output & { lines: string[]; errors: string[]; text(): string } {
  const lines: string[] = [];
  const errors: string[] = [];
  return {
    lines,
    errors,
    line: (text) => void lines.push(text),
    error: (text) => void errors.push(text),
    text: () => lines.join('\n'),
  };
}
