/** SPEC §5's pricing rules, exact to the cent, half-up: examples at the edges, then properties. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { priceLines, type PricedLine } from '../../src/modules/pricing/index.js';

const rules = { taxRate: '0.08', shippingFlatRate: '5.00', freeShippingThreshold: '50.00' };
const line = (unitPrice: string, quantity = 1, extra: Partial<PricedLine> = {}): PricedLine => ({
  unitPrice,
  quantity,
  isDigital: false,
  available: true,
  ...extra,
});

describe('priceLines', () => {
  it('adds 3 lines at 0.10 to exactly 0.30', () => {
    const totals = priceLines([line('0.10'), line('0.10'), line('0.10')], null, { ...rules, taxRate: '0' });
    expect(totals).toEqual({
      subtotal: '0.30',
      discount_amount: '0.00',
      tax_amount: '0.00',
      shipping_amount: '5.00',
      total_amount: '5.30',
    });
  });

  it.each([
    ['49.99', '5.00'],
    ['50.00', '0.00'],
    ['50.01', '0.00'],
  ])('ships a subtotal of %s for %s', (price, shipping) => {
    expect(priceLines([line(price)], null, rules).shipping_amount).toBe(shipping);
  });

  it('taxes and thresholds the discounted amount', () => {
    const totals = priceLines([line('55.00')], { kind: 'fixed', value: '10.00' }, rules);
    expect(totals).toEqual({
      subtotal: '55.00',
      discount_amount: '10.00',
      tax_amount: '3.60',
      shipping_amount: '5.00',
      total_amount: '53.60',
    });
  });

  it('rounds tax half-up to the cent', () => {
    // 0.0625 × 1.00 = 0.0625 → 0.06; 0.0625 × 1.20 = 0.075 → 0.08
    expect(priceLines([line('1.00')], null, { ...rules, taxRate: '0.0625' }).tax_amount).toBe('0.06');
    expect(priceLines([line('1.20')], null, { ...rules, taxRate: '0.0625' }).tax_amount).toBe('0.08');
  });

  it('rounds a percent discount half-up and never takes more than the subtotal', () => {
    expect(priceLines([line('0.05')], { kind: 'percent', value: '50' }, rules).discount_amount).toBe('0.03');
    expect(priceLines([line('0.05')], { kind: 'percent', value: '100' }, rules).discount_amount).toBe('0.05');
    const fixed = priceLines([line('3.00')], { kind: 'fixed', value: '10.00' }, rules);
    expect(fixed.discount_amount).toBe('3.00');
    expect(fixed.tax_amount).toBe('0.00');
  });

  it('ships digital-only orders free, and a mixed one not', () => {
    expect(priceLines([line('5.00', 1, { isDigital: true })], null, rules).shipping_amount).toBe('0.00');
    const mixed = [line('5.00', 1, { isDigital: true }), line('1.00')];
    expect(priceLines(mixed, null, rules).shipping_amount).toBe('5.00');
  });

  it('counts an unavailable line in no total', () => {
    const totals = priceLines([line('10.00'), line('99.00', 3, { available: false })], null, rules);
    expect(totals.subtotal).toBe('10.00');
  });

  it('gives an empty cart all zeros', () => {
    expect(priceLines([], null, rules).total_amount).toBe('0.00');
  });

  it('keeps every amount a two-place string and the total their sum', () => {
    const cents = fc.integer({ min: 0, max: 9_999_999 });
    const money = cents.map((c) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`);
    const lines = fc.array(
      fc.record({
        unitPrice: money,
        quantity: fc.integer({ min: 1, max: 1000 }),
        isDigital: fc.boolean(),
        available: fc.boolean(),
      }),
      { maxLength: 8 },
    );
    const discount = fc.option(
      fc.oneof(
        fc.record({ kind: fc.constant('fixed' as const), value: money }),
        fc.record({
          kind: fc.constant('percent' as const),
          value: fc.integer({ min: 1, max: 10000 }).map((v) => (v / 100).toFixed(2)),
        }),
      ),
      { nil: null },
    );
    const taxRate = fc.integer({ min: 0, max: 300_000 }).map((v) => (v / 1_000_000).toFixed(6));
    fc.assert(
      fc.property(lines, discount, taxRate, (ls, d, tax) => {
        const t = priceLines(ls, d, { ...rules, taxRate: tax });
        const c = (s: string) => {
          expect(s).toMatch(/^\d+\.\d{2}$/);
          return BigInt(s.replace('.', ''));
        };
        expect(c(t.total_amount)).toBe(
          c(t.subtotal) - c(t.discount_amount) + c(t.tax_amount) + c(t.shipping_amount),
        );
        expect(c(t.discount_amount) <= c(t.subtotal)).toBe(true);
        const exact = ls
          .filter((l) => l.available)
          .reduce((s, l) => s + BigInt(l.unitPrice.replace('.', '')) * BigInt(l.quantity), 0n);
        expect(c(t.subtotal)).toBe(exact);
      }),
    );
  });
});
