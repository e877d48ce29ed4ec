import { parseArgs } from 'node:util';
import { WORKLOAD } from './workload.js';

export const USAGE = `npm run bench -- [options]

  --sizes 10000,100000   catalog sizes, each on its own fresh database (default 100000)
  --products N           the same as --sizes N
  --seconds 10           measured seconds per label (after a warm-up of up to 2 s)
  --connections 32       concurrent connections per label
  --modes cold,warm      cache off (cold), then on (warm)
  --labels L1,L2         the workload labels to run (C0 and L5 always run)
  --no-commerce          leave out O1, O2, O3 and C1
  --explain              print the plan of every list query, per size
  --skip-import          one size, on the configured database as it is (no fresh database, no import)
  --quiet-check          refuse to run (exit 2) when the 1-minute load average is above 1
  --help                 this text`;

export const MODES = ['cold', 'warm'] as const;
export type Mode = (typeof MODES)[number];

export interface Options {
  /** Ascending: the comparison reads as the catalog growing. */
  sizes: number[];
  seconds: number;
  connections: number;
  explain: boolean;
  skipImport: boolean;
  modes: Mode[];
  commerce: boolean;
  labels: Set<string>;
  quietCheck: boolean;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

const positive = (flag: string, text: string): number => {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1)
    throw new UsageError(`${flag} takes positive whole numbers (got ${text})`);
  return n;
};

const list = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** `null` for `--help`. */
export function parseOptions(argv: string[]): Options | null {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      // Node 20's parseArgs rejects `--no-commerce` without it.
      allowNegative: true,
      options: {
        sizes: { type: 'string' },
        products: { type: 'string' },
        seconds: { type: 'string', default: '10' },
        connections: { type: 'string', default: '32' },
        explain: { type: 'boolean', default: false },
        'skip-import': { type: 'boolean', default: false },
        modes: { type: 'string', default: MODES.join(',') },
        commerce: { type: 'boolean', default: true },
        labels: { type: 'string', default: WORKLOAD.map((l) => l.label).join(',') },
        'quiet-check': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return null;
  if (values.sizes !== undefined && values.products !== undefined)
    throw new UsageError('--products is a synonym of --sizes: give one of them');
  const sizes = [
    ...new Set(list(values.sizes ?? values.products ?? '100000').map((s) => positive('--sizes', s))),
  ].sort((a, b) => a - b);
  if (sizes.length === 0) throw new UsageError('--sizes needs at least one size');
  if (values['skip-import'] && sizes.length > 1)
    throw new UsageError('--skip-import uses the configured database as it is, which holds one size');
  const modes = list(values.modes);
  const unknownMode = modes.find((m) => !(MODES as readonly string[]).includes(m));
  if (unknownMode) throw new UsageError(`--modes: unknown mode ${unknownMode} (cold, warm)`);
  const known = new Set(WORKLOAD.map((l) => l.label));
  const labels = list(values.labels);
  const unknownLabel = labels.find((l) => !known.has(l));
  if (unknownLabel)
    throw new UsageError(`--labels: unknown label ${unknownLabel} (${[...known].join(', ')})`);
  return {
    sizes,
    seconds: positive('--seconds', values.seconds),
    connections: positive('--connections', values.connections),
    explain: values.explain,
    skipImport: values['skip-import'],
    modes: MODES.filter((m) => modes.includes(m)),
    commerce: values.commerce,
    // C0 and L5 always run: the other labels, and the commerce ones, are reported against them.
    labels: new Set(['C0', 'L5', ...labels]),
    quietCheck: values['quiet-check'],
  };
}
