/**
 * Money in integer cents (BigInt), so no amount goes through binary floating point; amounts come in
 * and go out as decimal strings with two places (SPEC §5). Rounding is half-up to the cent.
 */
export type Cents = bigint;

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/** Exact: `"19.99"` → 1999n. A value with more than two places is rejected, never rounded silently. */
export function toCents(amount: string): Cents {
  const match = DECIMAL.exec(amount.trim());
  if (!match) throw new Error(`not a decimal amount: ${amount}`);
  const [, sign, whole, fraction = ''] = match;
  if (fraction.replace(/0+$/, '').length > 2) throw new Error(`more than two places: ${amount}`);
  const cents = BigInt(whole!) * 100n + BigInt(fraction.padEnd(2, '0').slice(0, 2));
  return sign ? -cents : cents;
}

/** 1999n → `"19.99"`. */
export function fromCents(cents: Cents): string {
  const sign = cents < 0n ? '-' : '';
  const abs = cents < 0n ? -cents : cents;
  return `${sign}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/** A non-negative decimal factor (`"0.0825"`, `"12.5"`) as an integer over a power of ten. */
function ratio(factor: string): { numerator: bigint; denominator: bigint } {
  const match = DECIMAL.exec(factor.trim());
  if (!match || match[1]) throw new Error(`not a non-negative decimal: ${factor}`);
  const fraction = match[3] ?? '';
  return { numerator: BigInt(match[2]! + fraction), denominator: 10n ** BigInt(fraction.length) };
}

/** `cents × factor`, half-up to the cent (for non-negative amounts). */
export function timesHalfUp(cents: Cents, factor: string): Cents {
  const { numerator, denominator } = ratio(factor);
  return (cents * numerator * 2n + denominator) / (denominator * 2n);
}

/** `percent` % of `cents`, half-up to the cent. */
export const percentOf = (cents: Cents, percent: string): Cents => {
  const { numerator, denominator } = ratio(percent);
  return (cents * numerator * 2n + denominator * 100n) / (denominator * 200n);
};
