import type { Measurement } from './load.js';
import type { Mode } from './options.js';

export type LabelResult = Measurement & { share_of_c0: number; share_of_f0?: number };
export type ModeResults = Record<string, LabelResult>;

/** A percentage with one decimal. */
export const share = (part: number, whole: number) => Math.round((part / whole) * 1000) / 10;

const mark = (ok: boolean) => (ok ? '✓' : '✗');

export function measurementLine(mode: string, label: string, m: Measurement, tail = ''): string {
  return (
    `${mode.padEnd(5)} ${label}  ${String(m.requests_per_second).padStart(7)} req/s  p50 ${String(m.p50_ms).padStart(4)} ms  ` +
    `p99 ${String(m.p99_ms).padStart(4)} ms${tail}` +
    (m.errors || m.non_2xx ? `  (${m.errors} errors, ${m.non_2xx} non-2xx)` : '')
  );
}

/** The performance issue's targets for one mode, a line each, after the mode's labels. */
export function modeSummary(mode: Mode, results: ModeResults, bare: Measurement | null): string[] {
  const lines: string[] = [];
  const rps = (label: string) => results[label]?.requests_per_second;
  const c0 = rps('C0');
  if (bare && c0 !== undefined) {
    const s = share(c0, bare.requests_per_second);
    lines.push(`C0 = ${s} % of bare Fastify (target ≥ 80 %) ${mark(s >= 80)}`);
  }
  if (mode === 'cold') {
    const l1 = rps('L1');
    const parts = ['L2', 'L3'].flatMap((label) => {
      const r = rps(label);
      return r === undefined || l1 === undefined ? [] : [{ label, s: share(r, l1) }];
    });
    if (parts.length > 0)
      lines.push(
        `${parts.map((p) => `${p.label} ${p.s} % of L1`).join(', ')} (target ≥ 50 %) ${mark(parts.every((p) => p.s >= 50))}`,
      );
    const slow = Object.entries(results).filter(([, m]) => m.p99_ms >= 100);
    lines.push(
      slow.length === 0
        ? 'every cold p99 < 100 ms'
        : `p99 ≥ 100 ms: ${slow.map(([label, m]) => `${label} (${m.p99_ms} ms)`).join(', ')}`,
    );
  } else {
    const parts = ['L1', 'L2', 'L3', 'L4'].flatMap((label) => {
      const m = results[label];
      return m ? [{ label, s: m.share_of_c0 }] : [];
    });
    if (parts.length > 0)
      lines.push(
        `${parts.map((p) => `${p.label} ${p.s} %`).join(', ')} of C0 (target ≥ 50 %) ${mark(parts.every((p) => p.s >= 50))}`,
      );
  }
  return lines.map((line) => `${mode.padEnd(5)} ${line}`);
}

/** What one size measured, per mode: the workload's labels, and cold, the commerce ones that have a rate. */
export type SizeRates = Partial<Record<Mode, Record<string, Measurement>>>;

/**
 * Each label's req/s at every size, and the ratio of each smaller size's to the largest's. A
 * request should cost no more on a smaller catalog, so a ratio below 1 is flagged (✗): it is either
 * noise or a cost that does not grow with the catalog (a fixed overhead that dominates).
 */
export function sizeComparison(bySize: Array<{ size: number; rates: SizeRates }>): string[] {
  const largest = bySize.at(-1)!;
  const smaller = bySize.slice(0, -1);
  const lines = [
    `Across sizes: req/s, and each smaller size's req/s ÷ ${largest.size}'s (✗ below 1: slower per request on the smaller catalog)`,
  ];
  const head = [...bySize.map((s) => String(s.size)), ...smaller.map((s) => `${s.size}/${largest.size}`)];
  const width = Math.max(10, ...head.map((h) => h.length)) + 2;
  const cells = (values: string[]) => values.map((v) => v.padStart(width)).join('');
  for (const mode of ['cold', 'warm'] as const) {
    const labels = Object.keys(largest.rates[mode] ?? {});
    if (labels.length === 0) continue;
    lines.push(`${mode.padEnd(5)} label${cells(head)}`);
    for (const label of labels) {
      const top = largest.rates[mode]![label]!.requests_per_second;
      const ratios = smaller.map((s) => {
        const r = s.rates[mode]?.[label]?.requests_per_second;
        if (r === undefined) return '–';
        const ratio = Math.round((r / top) * 100) / 100;
        return `${ratio.toFixed(2)}${r < top ? ' ✗' : '  '}`;
      });
      const rates = bySize.map((s) => String(s.rates[mode]?.[label]?.requests_per_second ?? '–'));
      lines.push(`${' '.repeat(6)}${label.padEnd(5)}${cells([...rates, ...ratios])}`);
    }
  }
  return lines;
}
