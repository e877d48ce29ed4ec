/** The README prints the order workflow; this keeps the printed table equal to the one the code reads. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ORDER_STATUSES, WORKFLOW } from '../../src/modules/orders/index.js';

describe('the README workflow table', () => {
  it('says what WORKFLOW says, move by move and mover by mover', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = /<!-- workflow:start -->([\s\S]*?)<!-- workflow:end -->/.exec(readme)?.[1] ?? '';
    const printed: Record<string, Record<string, string[]>> = {};
    for (const row of table.split('\n').filter((line) => /^\|\s*`/.test(line))) {
      const [, from, moves] = row.split('|').map((cell) => cell.trim());
      printed[from!.replace(/`/g, '')] = Object.fromEntries(
        [...moves!.matchAll(/`(\w+)` \(([^)]+)\)/g)].map((m) => [m[1]!, m[2]!.split(', ')]),
      );
    }
    const expected = Object.fromEntries(
      ORDER_STATUSES.map((from) => [
        from,
        Object.fromEntries(Object.entries(WORKFLOW[from]).map(([to, who]) => [to, [...who]])),
      ]),
    );
    expect(printed).toEqual(expected);
  });
});
