/**
 * DRF's DecimalField for money and measures: a JSON number or a string, kept as a string so no
 * value goes through floating point. Returns the canonical string or DRF's message.
 */
export function parseDecimal(
  value: string | number,
  { maxDigits, places, min }: { maxDigits: number; places: number; min?: number },
): { value: string } | { error: string } {
  const text = typeof value === 'number' ? String(value) : value.trim();
  const match = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match || (match[2] === '' && (match[3] ?? '') === '') || !Number.isFinite(Number(text))) {
    return { error: 'A valid number is required.' };
  }
  const [, sign, whole = '', fraction = ''] = match;
  const digitsBefore = whole.replace(/^0+(?=\d)/, '');
  if (fraction.replace(/0+$/, '').length > places) {
    return { error: `Ensure that there are no more than ${places} decimal places.` };
  }
  if (digitsBefore.length > maxDigits - places) {
    return {
      error: `Ensure that there are no more than ${maxDigits - places} digits before the decimal point.`,
    };
  }
  const unsigned = `${digitsBefore || '0'}.${fraction.replace(/0+$/, '').padEnd(places, '0')}`;
  const canonical = sign && Number(unsigned) !== 0 ? `-${unsigned}` : unsigned;
  if (min !== undefined && Number(canonical) < min) {
    return { error: `Ensure this value is greater than or equal to ${min}.` };
  }
  return { value: canonical };
}
